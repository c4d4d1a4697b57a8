import { release } from 'node:os';
import { BridgeError } from '../../core/errors.js';
import type { CliIO } from '../io.js';
import { createBrowserLauncher } from './browser-launcher.js';
import { formatExecCredential, readExecInfo } from './exec-credential.js';
import { connectToIssuer } from './issuer-connection.js';
import { parseLoginOptions, TARGET_USAGE } from './login-options.js';
import { obtainCredential } from './obtain-credential.js';
import { kubectlParent } from './refused-token.js';

const USAGE = `Usage: kube-oidc-bridge login --issuer URL [flags]

kubectl exec credential plugin: prints one ExecCredential on stdout (everything else goes to stderr).
Answers from the token cache when it can, refreshes silently when it can, and logs in through the
browser (or the device flow) only when it must.

Flags:
${TARGET_USAGE}
  --device              log in with a code on another device (SSH sessions, no browser here)
  --no-browser          do not open a browser: print the login URL to open on this machine
  --listen-address A    HOST:PORT of the local redirect receiver (default 127.0.0.1, random port)
  --timeout D           how long to wait for an interactive login (default 5m)
  --token-store S       where to keep the refresh token: file (default, in the cache) or keyring (the
                        OS keyring; access tokens stay in the cache file)
`;

/** The full `login` path: everything the fast path could not answer. */
export async function runLogin(argv: string[], io: CliIO): Promise<number> {
  const options = parseLoginOptions(argv, io.env);
  if (options === 'help') {
    io.stdout.write(USAGE);
    return 0;
  }
  const info = readExecInfo(io.env.KUBERNETES_EXEC_INFO);
  if ('error' in info) throw new BridgeError('ERR_PLUGIN', info.error);
  const now = () => Math.floor(Date.now() / 1000);
  const credential = await obtainCredential(options, {
    stderr: io.stderr,
    now,
    interactive: info.interactive,
    browser: createBrowserLauncher({ env: io.env, platform: process.platform, osRelease: release() }),
    connect: connectToIssuer,
    parentPid: kubectlParent(info.byHand, process.ppid),
  });
  io.stdout.write(formatExecCredential(info.apiVersion, credential.accessToken, credential.expiresAt));
  return 0;
}
