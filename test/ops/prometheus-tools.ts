import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** A Prometheus command on PATH (Debian's `prometheus` package ships both); throws saying how to get it. */
export function prometheusTool(name: 'promtool' | 'prometheus'): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  throw new Error(
    `${name} is not on PATH: install the Debian package "prometheus" (apt-get install prometheus)`,
  );
}

export interface ToolResult {
  code: number;
  output: string;
}

/** Runs promtool; a non-zero exit is a result (the tests assert on failures too). */
export function promtool(args: string[], cwd?: string): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    execFile(prometheusTool('promtool'), args, { cwd, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') {
        reject(err);
        return;
      }
      resolve({ code: err ? (err.code as number) : 0, output: stdout + stderr });
    });
  });
}
