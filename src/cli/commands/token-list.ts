import { toRfc3339 } from '../../core/clock.js';
import type { SessionRecord } from '../../store/index.js';
import { parseFlags, requireFlag } from '../args.js';
import { type CliIO, UsageError } from '../io.js';
import { loadConfigForCommand, withAdminContext } from './admin-context.js';

const USAGE = `Usage:
  kube-oidc-bridge token list --config FILE [--username USER] [--output json]

Lists live sessions (one per login or token mint), oldest first. No token, refresh token or
upstream credential is ever printed: use \`token revoke --session ID\` to end one.
`;

const FLAGS = {
  config: { type: 'string', short: 'c' },
  username: { type: 'string' },
  output: { type: 'string', short: 'o' },
} as const;

/** The public view of a session: who, where from, when. Credentials and claims stay in the store. */
export interface SessionSummary {
  id: string;
  username: string;
  source: SessionRecord['source'];
  identity: 'static' | 'claims';
  upstream?: string;
  upstreamIssuer?: string;
  subject?: string;
  createdAt: string;
  expiresAt: string;
  description?: string;
}

export function summarizeSession(session: SessionRecord): SessionSummary {
  return {
    id: session.id,
    username: session.username,
    source: session.source,
    identity: session.identity.kind,
    upstream: session.identity.kind === 'claims' ? session.identity.upstream || undefined : undefined,
    upstreamIssuer: session.upstreamIssuer,
    subject: session.subject,
    createdAt: toRfc3339(session.createdAt),
    expiresAt: toRfc3339(session.expiresAt),
    description: session.description,
  };
}

function table(rows: SessionSummary[]): string {
  const header = ['SESSION', 'USERNAME', 'SOURCE', 'CREATED', 'EXPIRES', 'DESCRIPTION'];
  const cells = rows.map((r) => [r.id, r.username, r.source, r.createdAt, r.expiresAt, r.description ?? '']);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)));
  const line = (cols: string[]) =>
    cols
      .map((c, i) => c.padEnd(widths[i] as number))
      .join('  ')
      .trimEnd();
  return `${[header, ...cells].map(line).join('\n')}\n`;
}

/** `token list`: live sessions as a table or JSON. */
export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseFlags(argv, FLAGS);
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const configFile = requireFlag(values.config, 'config');
  const output = values.output ?? 'table';
  if (output !== 'table' && output !== 'json') throw new UsageError('--output must be table or json');
  const config = loadConfigForCommand(configFile, io);

  return withAdminContext(config, io, async ({ tokens }) => {
    const filter = values.username === undefined ? undefined : { username: values.username };
    const sessions = (await tokens.listSessions(filter)).map(summarizeSession);
    if (output === 'json') io.stdout.write(`${JSON.stringify(sessions, null, 2)}\n`);
    else if (sessions.length === 0) io.stderr.write('no live sessions\n');
    else io.stdout.write(table(sessions));
    return 0;
  });
}
