import { toRfc3339 } from '../../core/clock.js';
import { parseDuration } from '../../core/duration.js';
import type { UserInfo } from '../../core/identity.js';
import { audit } from '../../core/logger.js';
import { compileMappingSet, type MappingOutcome } from '../../mapping/index.js';
import type { SessionIdentity } from '../../store/index.js';
import { parseFlags, requireFlag } from '../args.js';
import { type CliIO, UsageError } from '../io.js';
import { loadConfigForCommand, withAdminContext } from './admin-context.js';
import { readClaimsArgument } from './claims-argument.js';

const USAGE = `Usage:
  kube-oidc-bridge token mint --config FILE --audience A [--ttl 15m] --username U [--uid X] [--group G]... [--extra KEY=VALUE]... [--allow-system]
  kube-oidc-bridge token mint --config FILE --audience A [--ttl 15m] --claims JSON_OR_@FILE [--upstream NAME]

Mints an access token and prints it, and nothing else, on stdout.

  --username     the token carries exactly this identity (claim mapping does not rewrite it)
  --claims       the token carries these IdP-style claims; the mapping rules turn them into a user
                 at every review, exactly as for a login (a rule change applies to live tokens)
  --audience     audience the token is valid for (repeatable); a verifier accepts it only when this
                 is one of the audiences the apiserver asks for
  --ttl          lifetime, e.g. 90s, 15m, 12h (default: tokens.accessTokenTTL)
  --group        group (repeatable); --extra KEY=VALUE adds a user extra value (repeatable)
  --upstream     with --claims: map with this upstream's rules (default: the top-level mapping)
  --allow-system with --username: allow a system: username or group (e.g. system:masters)
  --description  note shown by \`token list\`

userValidationRules and the system: guard are checked now, and again at every review.
`;

const FLAGS = {
  config: { type: 'string', short: 'c' },
  audience: { type: 'string', multiple: true },
  ttl: { type: 'string' },
  username: { type: 'string' },
  uid: { type: 'string' },
  group: { type: 'string', multiple: true },
  extra: { type: 'string', multiple: true },
  claims: { type: 'string' },
  upstream: { type: 'string' },
  'allow-system': { type: 'boolean' },
  description: { type: 'string' },
} as const;

function parseExtra(pairs: string[]): Record<string, string[]> {
  const extra: Record<string, string[]> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--extra expects KEY=VALUE, got ${JSON.stringify(pair)}`);
    const key = pair.slice(0, eq);
    extra[key] = [...(extra[key] ?? []), pair.slice(eq + 1)];
  }
  return extra;
}

type Values = ReturnType<typeof parseFlags<typeof FLAGS>>['values'];

/** The session identity the flags describe (static user or raw claims). */
function identityFromFlags(values: Values, cwd: string): SessionIdentity {
  if ((values.username === undefined) === (values.claims === undefined)) {
    throw new UsageError('give exactly one of --username or --claims');
  }
  if (values.claims !== undefined) {
    if (values.uid || values.group || values.extra || values['allow-system']) {
      throw new UsageError(
        '--uid, --group, --extra and --allow-system go with --username; with --claims the mapping rules decide (use groupMap for system: groups)',
      );
    }
    return {
      kind: 'claims',
      upstream: values.upstream ?? '',
      claims: readClaimsArgument(values.claims, cwd),
    };
  }
  if (values.upstream !== undefined) throw new UsageError('--upstream goes with --claims');
  const user: UserInfo = {
    username: values.username as string,
    groups: values.group ?? [],
    extra: parseExtra(values.extra ?? []),
  };
  if (values.uid !== undefined) user.uid = values.uid;
  return { kind: 'static', user, allowSystem: values['allow-system'] === true };
}

function refusal(outcome: Exclude<MappingOutcome, { ok: true }>, identity: SessionIdentity): string {
  const hint =
    identity.kind === 'static' && /system:/.test(outcome.reason) && !identity.allowSystem
      ? ' (to mint a system: identity on purpose, add --allow-system)'
      : '';
  return `refused by ${outcome.rule}: ${outcome.reason}${hint}`;
}

/** `token mint`: validates the identity with the same rules a review applies, then mints. */
export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseFlags(argv, FLAGS);
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const configFile = requireFlag(values.config, 'config');
  const audiences = values.audience ?? [];
  if (audiences.length === 0) throw new UsageError('--audience is required');
  const ttl = values.ttl === undefined ? undefined : parseDuration(values.ttl);
  if (ttl === 0 || (values.ttl !== undefined && ttl === undefined)) {
    throw new UsageError(`--ttl: not a positive duration: ${JSON.stringify(values.ttl)} (use e.g. 15m)`);
  }
  const identity = identityFromFlags(values, io.cwd);

  const config = loadConfigForCommand(configFile, io);
  if (identity.kind === 'claims' && identity.upstream !== '') {
    const names = (config.issuer?.upstreams ?? []).map((u) => u.name);
    if (!names.includes(identity.upstream)) {
      throw new UsageError(
        `--upstream ${identity.upstream} is not in issuer.upstreams (${names.join(', ') || 'none configured'})`,
      );
    }
  }
  const mapping = await compileMappingSet(config);
  const outcome =
    identity.kind === 'static'
      ? mapping.forUpstream().checkUser(identity.user, { allowSystem: identity.allowSystem === true })
      : mapping.forUpstream(identity.upstream || undefined).mapClaims(identity.claims);
  if (!outcome.ok) {
    io.stderr.write(`token mint: ${refusal(outcome, identity)}\n`);
    return 1;
  }
  const notAccepted = audiences.filter((a) => config.verifier && !config.verifier.audiences.includes(a));
  if (notAccepted.length > 0) {
    io.stderr.write(
      `token mint: warning: the verifier in this config does not accept audience ${notAccepted.join(', ')} (verifier.audiences)\n`,
    );
  }

  return withAdminContext(config, io, async ({ tokens, logger }) => {
    const lifetime = ttl ?? config.tokens.accessTokenTTL;
    const session = await tokens.createSession({
      identity,
      username: outcome.user.username,
      source: 'admin',
      description: values.description ?? 'minted with token mint',
      lifetime,
    });
    const issued = await tokens.issueAccessToken(session, audiences, { ttl: lifetime });
    audit(logger, 'mint', {
      source: 'admin',
      sessionId: session.id,
      username: outcome.user.username,
      audiences,
      expiresAt: issued.expiresAt,
    });
    io.stdout.write(`${issued.token}\n`);
    io.stderr.write(
      `minted a token for ${outcome.user.username} (session ${session.id}), valid until ${toRfc3339(issued.expiresAt)}\n`,
    );
    return 0;
  });
}
