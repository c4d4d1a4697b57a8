import type { Claims } from '../core/identity.js';
import { resolveClaimSources, type UpstreamJwtVerifier } from './claim-sources.js';
import { type DirectoryFetch, type LookupBudget, lookupFailed } from './directory-fetch.js';
import { compileGroupFilter, type GroupFilterRules } from './group-filter.js';
import { type MicrosoftGraphSettings, microsoftGraphGroups } from './microsoft-graph.js';
import { type OktaSettings, oktaGroups } from './okta-groups.js';
import { GROUP_SOURCES_CLAIM, type GroupResolution, type GroupSource, SOURCE_LETTER } from './types.js';

/** An upstream's `groups` settings, as the configuration resolves them. */
export interface GroupSettings {
  claim: string;
  distributedClaims: boolean;
  from: 'token' | 'microsoftGraph' | 'okta';
  when: 'overage' | 'always';
  microsoftGraph?: MicrosoftGraphSettings | undefined;
  okta?: (OktaSettings & { tokenLimit: number }) | undefined;
  filter?: GroupFilterRules | undefined;
  maxGroups: number;
  /** Seconds. */
  timeout: number;
}

/** The settings an upstream without a `groups` block gets: follow claim sources, no directory, no filter. */
export const DEFAULT_GROUP_SETTINGS: GroupSettings = {
  claim: 'groups',
  distributedClaims: true,
  from: 'token',
  when: 'overage',
  maxGroups: 1000,
  timeout: 10,
};

export interface GroupLookupDeps {
  fetch: DirectoryFetch;
  verifyJwt: UpstreamJwtVerifier;
  /** Milliseconds since the epoch; with `sleep`, what the throttling waits are measured with. */
  nowMs(): number;
  sleep(ms: number): Promise<void>;
}

export interface GroupLookupInput {
  settings: GroupSettings;
  /** The upstream's `claims` allow-list: claims given by reference are resolved only when wanted. */
  wanted: readonly string[];
  /** ID token and userinfo claims, merged. */
  claims: Claims;
  /** Where the groups claim came from when the IdP gave it directly. */
  directSource: 'token' | 'userinfo';
  upstreamAccessToken?: string | undefined;
}

export interface GroupLookupResult {
  /** The claims with referenced claims filled in, the groups claim filtered and provenance recorded. */
  claims: Claims;
  resolution: GroupResolution;
}

const SAMPLE_SIZE = 5;
/** Longest group name taken from a claims source or directory (Entra and Okta cap theirs at 255-256). */
const MAX_GROUP_NAME_LENGTH = 1024;

/**
 * Completes a user's claims with what does not fit in the token, at login and at every refresh:
 * claims given by reference (`_claim_names`), then the configured directory (Microsoft Graph on
 * Entra ID overage, Okta beyond its token limit), then the admin's filter and the size cap. The
 * session keeps only the result; reviews never call out. Throws ERR_UPSTREAM ("groups could not be
 * fetched from …") when a source fails or the cap is exceeded: never a login with groups missing.
 */
export async function resolveUpstreamGroups(
  deps: GroupLookupDeps,
  input: GroupLookupInput,
): Promise<GroupLookupResult> {
  const { settings } = input;
  const budget: LookupBudget = {
    fetch: deps.fetch,
    deadlineMs: deps.nowMs() + settings.timeout * 1000,
    now: deps.nowMs,
    sleep: deps.sleep,
  };
  const claims: Claims = { ...input.claims };
  const found: Array<{ group: string; source: GroupSource }> = [];
  for (const group of stringList(claims[settings.claim])) found.push({ group, source: input.directSource });

  if (settings.distributedClaims) {
    // Entra's overage pointer names the retired Azure AD Graph: the Graph lookup below answers it.
    const skip = settings.from === 'microsoftGraph' ? settings.claim : undefined;
    const wanted = input.wanted.filter((name) => name !== skip);
    const sourced = await resolveClaimSources(
      {
        budget,
        verifyJwt: deps.verifyJwt,
        upstreamAccessToken: input.upstreamAccessToken,
        issuer: typeof claims['iss'] === 'string' ? claims['iss'] : undefined,
      },
      claims,
      wanted,
    );
    for (const claim of sourced) {
      if (claim.name === settings.claim) {
        for (const group of sourcedGroups(claim.value)) found.push({ group, source: claim.via });
      } else {
        claims[claim.name] = claim.value;
      }
    }
  }

  if (directoryWanted(settings, input.claims)) {
    const directory = settings.from as 'microsoftGraph' | 'okta';
    const groups =
      directory === 'microsoftGraph'
        ? await microsoftGraphGroups(budget, settingsOf(settings.microsoftGraph), input.upstreamAccessToken)
        : await oktaGroups(budget, settingsOf(settings.okta), subjectOf(input.claims));
    for (const group of groups) found.push({ group, source: directory });
  }

  const resolution = keepAllowed(found, settings);
  if (resolution.groups.length > settings.maxGroups) {
    throw lookupFailed(
      'the group filter',
      `the user has ${resolution.groups.length} groups after the filter, more than groups.maxGroups (${settings.maxGroups}); narrow groups.filter`,
    );
  }
  delete claims['_claim_names'];
  delete claims['_claim_sources'];
  // Provenance only beside groups: a user without any stores nothing extra, and a claim of that name
  // sent by the upstream itself is never taken for ours.
  delete claims[GROUP_SOURCES_CLAIM];
  if (found.length > 0 || claims[settings.claim] !== undefined) {
    claims[settings.claim] = resolution.groups;
    claims[GROUP_SOURCES_CLAIM] = encodeSources(resolution);
  }
  return { claims, resolution };
}

/** On overage the token says groups were left out: Entra's `_claim_names.groups` / `hasgroups`, Okta's limit. */
function directoryWanted(settings: GroupSettings, claims: Claims): boolean {
  if (settings.from === 'token') return false;
  if (settings.when === 'always') return true;
  if (settings.from === 'microsoftGraph') {
    const names = claims['_claim_names'] as Record<string, unknown> | undefined;
    return (
      claims['hasgroups'] === true || claims['hasgroups'] === 'true' || names?.[settings.claim] !== undefined
    );
  }
  return stringList(claims[settings.claim]).length >= (settings.okta?.tokenLimit ?? 100);
}

function keepAllowed(
  found: Array<{ group: string; source: GroupSource }>,
  settings: GroupSettings,
): GroupResolution {
  const allowed = compileGroupFilter(settings.filter);
  const seen = new Set<string>();
  const groups: string[] = [];
  const sources: GroupSource[] = [];
  const dropped = { count: 0, sample: [] as string[] };
  for (const { group, source } of found) {
    if (seen.has(group)) continue;
    if (source !== 'token' && source !== 'userinfo' && group.length > MAX_GROUP_NAME_LENGTH) {
      throw lookupFailed(source, `a group name is longer than ${MAX_GROUP_NAME_LENGTH} characters`);
    }
    seen.add(group);
    if (!allowed(group)) {
      dropped.count++;
      if (dropped.sample.length < SAMPLE_SIZE) dropped.sample.push(group);
      continue;
    }
    groups.push(group);
    sources.push(source);
  }
  return { groups, sources, dropped };
}

/** `ttgg/3`: one letter per kept group, then how many the filter dropped. */
export function encodeSources(resolution: GroupResolution): string {
  return `${resolution.sources.map((s) => SOURCE_LETTER[s]).join('')}/${resolution.dropped.count}`;
}

/** The inverse of encodeSources, for `mapping explain`; undefined when the claim is absent or malformed. */
export function decodeSources(value: unknown): { sources: GroupSource[]; dropped: number } | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^([a-z]*)\/(\d+)$/.exec(value);
  if (!match) return undefined;
  const byLetter = new Map(
    Object.entries(SOURCE_LETTER).map(([source, letter]) => [letter, source as GroupSource]),
  );
  const sources: GroupSource[] = [];
  for (const letter of match[1] ?? '') {
    const source = byLetter.get(letter);
    if (!source) return undefined;
    sources.push(source);
  }
  return { sources, dropped: Number(match[2]) };
}

/** A groups claim read from a claims source: a string or an array of strings, or the lookup fails. */
function sourcedGroups(value: unknown): string[] {
  const groups = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(groups) || groups.some((g) => typeof g !== 'string')) {
    throw lookupFailed('a claims source', 'the groups claim from the claims source is not a list of strings');
  }
  return groups as string[];
}

function stringList(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function subjectOf(claims: Claims): string {
  const sub = claims['sub'];
  if (typeof sub !== 'string' || sub === '') throw lookupFailed('Okta', 'no subject to look the user up by');
  return sub;
}

function settingsOf<T>(settings: T | undefined): T {
  // The schema requires the block for its `from`; a missing one is a programming error.
  if (settings === undefined) throw new Error('directory settings missing for the configured groups.from');
  return settings;
}
