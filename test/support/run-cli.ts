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

/**
 * Writes the apiserver's webhook kubeconfig with the real `webhook-config` command, as an admin
 * would, and throws with the command's stderr when it fails.
 */
export async function writeWebhookKubeconfig(options: {
  verifierURL: string;
  caFile: string;
  clientCert: { certFile: string; keyFile: string };
  out: string;
  cwd: string;
}): Promise<string> {
  const run = await runCliCaptured(
    [
      'webhook-config',
      '--url',
      `${options.verifierURL}/authenticate`,
      '--ca',
      options.caFile,
      '--client-cert',
      options.clientCert.certFile,
      '--client-key',
      options.clientCert.keyFile,
      '--out',
      options.out,
    ],
    { cwd: options.cwd },
  );
  if (run.code !== 0) throw new Error(`webhook-config failed (${run.code}): ${run.stderr}`);
  return options.out;
}
