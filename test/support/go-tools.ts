import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const buildScript = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'tools', 'build.sh');

/**
 * Path of a Go-built test peer (tools/<name>/), as tools/build.sh caches it. Throws, saying how to
 * build it, when the binary is not there: a missing peer fails the test, it never skips it.
 */
export function goToolPath(name: string): string {
  const path = execFileSync('bash', [buildScript, '--path', name], { encoding: 'utf8' }).trim();
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(
      `the test peer '${name}' is not built: run 'bash tools/build.sh ${name}' (needs Go 1.26 and the Go module proxy; .ci/run does it)`,
    );
  }
  return path;
}
