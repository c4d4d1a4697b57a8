import type { CliIO } from '../io.js';
import { answerFromCache } from '../plugin/fast-path.js';

/**
 * `kube-oidc-bridge login`: the kubectl exec credential plugin. kubectl runs it before every command,
 * so the cached answer is given by the fast path with nothing else loaded; the OAuth machinery is
 * imported only when the cache cannot answer.
 */
export async function run(argv: string[], io: CliIO): Promise<number> {
  const now = () => Math.floor(Date.now() / 1000);
  if (answerFromCache(argv, { stdout: io.stdout, env: io.env, now, parentPid: process.ppid })) return 0;
  const { runLogin } = await import('../plugin/login-command.js');
  return runLogin(argv, io);
}
