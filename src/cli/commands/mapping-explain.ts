import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Config, loadConfigFile } from '../../config/index.js';
import { ConfigError } from '../../core/errors.js';
import type { Claims } from '../../core/identity.js';
import { decodeSources, GROUP_SOURCES_CLAIM, type GroupSource } from '../../directory/index.js';
import {
  type CompiledMappingSet,
  compileMappingSet,
  explainMapping,
  type MappingExplanation,
} from '../../mapping/index.js';
import { parseFlags, requireFlag } from '../args.js';
import { type CliIO, UsageError } from '../io.js';
import { withAdminContext } from './admin-context.js';

const HELP = `Usage: kube-oidc-bridge mapping explain --config FILE (--claims JSON_OR_@FILE [--upstream NAME] | --session ID) [--output text|json]

Shows what the configured mapping rules make of a set of IdP claims: the Kubernetes username, uid,
groups and extra, or which rule refused them and why. A dry run of exactly what a TokenReview does
with a session holding these claims. For a live session (--session, from \`token list\`) it also
shows where each IdP group came from: the token, userinfo, a distributed or aggregated claim,
Microsoft Graph or Okta, and how many groups the upstream's filter dropped.

Flags:
  --config FILE        configuration file (its mapping and issuer.upstreams[].mapping rules are used)
  --claims JSON|@FILE  the claims, as inline JSON ('{"email":"a@example.com"}') or @path to a JSON file
  --upstream NAME      use this upstream's own rules (default: the top-level mapping)
  --session ID         explain the claims stored with this live session (reads the token store)
  --output text|json   output format (default: text)
  -h, --help           show this help

Exit status: 0 mapped, 1 refused by a rule, 2 usage error or invalid configuration.
`;

/** `kube-oidc-bridge mapping explain`: the admin's dry run of the claim mapping rules. */
export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseFlags(argv, {
    config: { type: 'string' },
    claims: { type: 'string' },
    upstream: { type: 'string' },
    session: { type: 'string' },
    output: { type: 'string', default: 'text' },
  });
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  const output = values.output;
  if (output !== 'text' && output !== 'json')
    throw new UsageError(`--output must be text or json, not "${output}"`);
  const configFile = resolve(io.cwd, requireFlag(values.config, 'config'));
  if (values.claims !== undefined && values.session !== undefined) {
    throw new UsageError('give --claims or --session, not both');
  }
  const claimsFlag = values.session === undefined ? requireFlag(values.claims, 'claims') : undefined;
  let set: CompiledMappingSet;
  let config: Config;
  try {
    config = loadConfigFile(configFile, io.env);
    set = await compileMappingSet(config);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.stderr.write(`kube-oidc-bridge mapping explain: ${configFile}: ${err.message}\n`);
    return 2;
  }
  let claims: Claims;
  let upstream = values.upstream;
  if (values.session !== undefined) {
    const stored = await sessionClaims(config, io, values.session);
    if (!stored) {
      io.stderr.write(
        `kube-oidc-bridge mapping explain: no live session ${values.session} with IdP claims\n`,
      );
      return 2;
    }
    claims = stored.claims;
    upstream = stored.upstream || undefined;
  } else {
    claims = readClaims(claimsFlag as string, io.cwd);
  }
  if (upstream !== undefined && !set.upstreamNames.includes(upstream)) {
    const known = set.upstreamNames.length > 0 ? set.upstreamNames.join(', ') : 'none configured';
    throw new UsageError(`--upstream: unknown upstream "${upstream}" (known: ${known})`);
  }
  const explanation = explainMapping(set, claims, upstream);
  const groupsClaim = config.issuer?.upstreams.find((u) => u.name === upstream)?.groups?.claim ?? 'groups';
  const provenance = groupProvenance(claims, groupsClaim);
  io.stdout.write(
    output === 'json'
      ? `${JSON.stringify({ ...toJson(explanation), ...(provenance ? { groupSources: provenance } : {}) }, null, 2)}\n`
      : toText(explanation) + (provenance ? provenanceText(provenance) : ''),
  );
  return explanation.outcome.ok ? 0 : 1;
}

/** The IdP claims stored with a live session, read through the token store. */
async function sessionClaims(
  config: Config,
  io: CliIO,
  id: string,
): Promise<{ claims: Claims; upstream: string } | undefined> {
  let found: { claims: Claims; upstream: string } | undefined;
  const status = await withAdminContext(config, io, async ({ tokens }) => {
    const session = await tokens.getSession(id);
    if (session?.identity.kind === 'claims') {
      found = { claims: session.identity.claims, upstream: session.identity.upstream };
    }
    return 0;
  });
  return status === 0 ? found : undefined;
}

interface GroupProvenanceView {
  /** IdP group → where it came from. */
  groups: Record<string, GroupSource>;
  /** Groups the upstream's filter dropped before the session was stored. */
  droppedByFilter: number;
}

/** Pairs the upstream's groups claim (`groups.claim`, `groups` by default) with its provenance. */
function groupProvenance(claims: Claims, groupsClaim: string): GroupProvenanceView | undefined {
  const decoded = decodeSources(claims[GROUP_SOURCES_CLAIM]);
  const groups = claims[groupsClaim];
  if (!decoded || !Array.isArray(groups)) return undefined;
  const view: GroupProvenanceView = { groups: {}, droppedByFilter: decoded.dropped };
  groups.forEach((group, i) => {
    const source = decoded.sources[i];
    if (typeof group === 'string' && source) view.groups[group] = source;
  });
  return view;
}

function provenanceText(view: GroupProvenanceView): string {
  const lines = ['IdP groups, by source:'];
  for (const [group, source] of Object.entries(view.groups)) lines.push(`  ${group}  (${source})`);
  lines.push(`  ${view.droppedByFilter} dropped by the upstream's group filter`);
  return `${lines.join('\n')}\n`;
}

/** Inline JSON, or `@path` (relative to the working directory); must be a JSON object. */
function readClaims(value: string, cwd: string): Claims {
  let text = value;
  let source = '--claims';
  if (value.startsWith('@')) {
    source = value.slice(1);
    try {
      text = readFileSync(resolve(cwd, source), 'utf8');
    } catch (err) {
      throw new UsageError(`--claims: cannot read ${source}: ${(err as Error).message}`);
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--claims: ${source} is not valid JSON: ${(err as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UsageError(
      `--claims: ${source} must be a JSON object of claims, e.g. {"sub":"1234","groups":["dev"]}`,
    );
  }
  return parsed as Claims;
}

function toJson({ rules, outcome }: MappingExplanation): object {
  if (outcome.ok) return { rules, mapped: true, user: outcome.user };
  const { rule, reason, evaluationError } = outcome;
  return { rules, mapped: false, rule, reason, evaluationError: evaluationError === true };
}

function toText({ rules, outcome }: MappingExplanation): string {
  const lines = [`rules:    ${rules}`];
  if (!outcome.ok) {
    lines.push(`result:   refused${outcome.evaluationError ? ' (expression failed to evaluate)' : ''}`);
    lines.push(`rule:     ${outcome.rule}`, `reason:   ${outcome.reason}`);
    return `${lines.join('\n')}\n`;
  }
  const { username, uid, groups, extra } = outcome.user;
  lines.push('result:   mapped', `username: ${username}`, `uid:      ${uid ?? '(none)'}`);
  lines.push(`groups:   ${groups.length > 0 ? groups.join(', ') : '(none)'}`);
  const keys = Object.keys(extra);
  lines.push(`extra:    ${keys.length > 0 ? '' : '(none)'}`.trimEnd());
  for (const key of keys) lines.push(`  ${key}: ${(extra[key] ?? []).join(', ')}`);
  return `${lines.join('\n')}\n`;
}
