import { runCli } from '../../src/cli/main.js';

/** What one in-process `kube-oidc-bridge …` run printed and returned. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command through the real dispatcher in-process, with its output captured and an empty
 * environment unless one is given (the developer's own variables never leak in).
 */
export async function runCliCaptured(
  args: string[],
  options: { cwd: string; env?: Record<string, string | undefined> },
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: { write: (chunk: string) => (stdout += chunk) },
    stderr: { write: (chunk: string) => (stderr += chunk) },
    env: options.env ?? {},
    cwd: options.cwd,
  });
  return { code, stdout, stderr };
}
