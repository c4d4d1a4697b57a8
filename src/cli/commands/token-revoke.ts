import { systemClock } from '../../core/clock.js';
import { formatDuration, parseDuration } from '../../core/duration.js';
import { audit } from '../../core/logger.js';
import { hasResilience } from '../../store/index.js';
import { parseFlags, requireFlag } from '../args.js';
import { type CliIO, UsageError } from '../io.js';
import { loadConfigForCommand, withAdminContext } from './admin-context.js';

const USAGE = `Usage:
  kube-oidc-bridge token revoke --config FILE --token TOKEN
  kube-oidc-bridge token revoke --config FILE --session ID
  kube-oidc-bridge token revoke --config FILE --username USER
  kube-oidc-bridge token revoke --config FILE --replay-since DURATION

Revokes at once, on every verifier sharing the store:
  --token     the token's whole session (every token and refresh token of that login);
              an access token (kob_…) or a refresh token (kobrt_…)
  --session   one session, by the id \`token list\` shows
  --username  every session of that user
  --replay-since
              re-apply every revocation of the last DURATION (e.g. 15m) from the
              revocation journal: after a Redis failover promoted a replica that had
              not received them (docs/store.md). Redis only.

The apiserver may keep answering from its own cache for up to
--authentication-token-webhook-cache-ttl (default 2m) after a revocation.
Exit status 1 when --token or --session names nothing live. When no replica
acknowledged a revocation, it is still applied on the primary, but the command
fails and says so: re-run it, or replay, after a failover.
`;

const FLAGS = {
  config: { type: 'string', short: 'c' },
  token: { type: 'string' },
  session: { type: 'string' },
  username: { type: 'string' },
  'replay-since': { type: 'string' },
} as const;

/** `token revoke`: by token, session id or user. Prints what was revoked; never the token. */
export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseFlags(argv, FLAGS);
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const configFile = requireFlag(values.config, 'config');
  const replaySince = values['replay-since'];
  const given = [values.token, values.session, values.username, replaySince].filter((v) => v !== undefined);
  if (given.length !== 1) {
    throw new UsageError('give exactly one of --token, --session, --username or --replay-since');
  }
  const window = replaySince === undefined ? undefined : parseDuration(replaySince);
  if (replaySince !== undefined && (window === undefined || window === 0)) {
    throw new UsageError(`--replay-since: not a duration: ${replaySince} (use e.g. 15m, 2h)`);
  }
  const config = loadConfigForCommand(configFile, io);

  return withAdminContext(config, io, async ({ tokens, store, logger }) => {
    if (window !== undefined) {
      if (!hasResilience(store)) {
        io.stderr.write('token revoke: --replay-since needs a Redis store (a memory store has no journal)\n');
        return 1;
      }
      const result = await store.replayRevocations(systemClock.now() - window);
      audit(logger, 'revoke', { scope: 'replay', since: formatDuration(window), ...result, source: 'admin' });
      io.stdout.write(
        `replayed ${result.replayed} revocation${result.replayed === 1 ? '' : 's'} of the last ${formatDuration(window)}; ${result.restored} session${result.restored === 1 ? ' was' : 's were'} live again and revoked\n`,
      );
      return 0;
    }
    if (values.username !== undefined) {
      const count = await tokens.revokeUser(values.username);
      audit(logger, 'revoke', { scope: 'user', username: values.username, sessions: count, source: 'admin' });
      io.stdout.write(`revoked ${count} session${count === 1 ? '' : 's'} of ${values.username}\n`);
      return 0;
    }
    if (values.session !== undefined) {
      const revoked = await tokens.revokeSession(values.session);
      audit(logger, 'revoke', { scope: 'session', sessionId: values.session, revoked, source: 'admin' });
      io.stdout.write(revoked ? `revoked session ${values.session}\n` : '');
      if (!revoked) io.stderr.write(`token revoke: no live session ${values.session}\n`);
      return revoked ? 0 : 1;
    }
    const token = values.token as string;
    const session = token.startsWith('kobrt_')
      ? await tokens.revokeRefreshToken(token)
      : await tokens.revokeAccessToken(token);
    if (!session) {
      io.stderr.write('token revoke: token unknown, expired or already revoked\n');
      return 1;
    }
    audit(logger, 'revoke', {
      scope: 'token',
      sessionId: session.id,
      username: session.username,
      source: 'admin',
    });
    io.stdout.write(`revoked session ${session.id} of ${session.username}\n`);
    return 0;
  });
}
