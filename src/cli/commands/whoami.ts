import * as oidc from 'openid-client';
import { parseFlags } from '../args.js';
import type { CliIO } from '../io.js';
import { createBrowserLauncher } from '../plugin/browser-launcher.js';
import { connectToIssuer, toPluginError } from '../plugin/issuer-connection.js';
import { TARGET_FLAGS, TARGET_USAGE, toIssuerTarget } from '../plugin/login-options.js';
import { obtainCredential } from '../plugin/obtain-credential.js';
import { printable } from '../plugin/terminal-text.js';

const USAGE = `Usage:
  kube-oidc-bridge whoami --issuer URL [flags]

Shows who the cluster sees you as: the username, groups and extra the verifier derives from your
login (the issuer applies the same mapping rules), and when the current token expires. Uses the
cached login (refreshing it if needed); never starts a new one.

Flags:
${TARGET_USAGE}
  -o, --output FORMAT   text (default) or json
`;

interface UserinfoBody {
  username?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
  audiences?: string[];
  expires_at?: number;
}

function describe(info: UserinfoBody, issuer: string, now: number): string {
  const lines = [
    ['Issuer', issuer],
    ['Username', info.username ?? ''],
    ...(info.uid ? [['UID', info.uid]] : []),
    ['Groups', (info.groups ?? []).join(', ') || '(none)'],
    ...Object.entries(info.extra ?? {}).map(([k, v]) => [`Extra ${k}`, v.join(', ')]),
    ['Audiences', (info.audiences ?? []).join(', ')],
  ];
  if (info.expires_at) {
    const left = Math.max(0, info.expires_at - now);
    lines.push([
      'Token expires',
      `${new Date(info.expires_at * 1000).toISOString()} (in ${Math.ceil(left / 60)} min)`,
    ]);
  }
  const width = Math.max(...lines.map(([k]) => (k as string).length));
  // Server text on a terminal: no control characters (terminal-text.ts).
  return `${lines.map(([k, v]) => `${printable(k).padEnd(width)}  ${printable(v)}`).join('\n')}\n`;
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseFlags(argv, { ...TARGET_FLAGS, output: { type: 'string', short: 'o' } });
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const target = toIssuerTarget(values, io.env);
  const now = () => Math.floor(Date.now() / 1000);
  const credential = await obtainCredential(
    { ...target, device: false, noBrowser: true, timeoutMs: 60_000 },
    {
      stderr: io.stderr,
      now,
      interactive: false,
      allowLogin: false,
      browser: createBrowserLauncher({ env: io.env, platform: process.platform }),
      connect: connectToIssuer,
    },
  );
  const config = await connectToIssuer(target);
  let info: UserinfoBody;
  try {
    info = (await oidc.fetchUserInfo(config, credential.accessToken, oidc.skipSubjectCheck)) as UserinfoBody;
  } catch (err) {
    throw toPluginError(err, 'the issuer did not accept the cached token');
  }
  io.stdout.write(
    values.output === 'json' ? `${JSON.stringify(info, null, 2)}\n` : describe(info, target.issuer, now()),
  );
  return 0;
}
