/**
 * Where a group of a session came from, for `mapping explain` and the audit trail:
 * the ID token, the userinfo response, an OIDC distributed or aggregated claim, or a directory API.
 */
export type GroupSource = 'token' | 'userinfo' | 'distributed' | 'aggregated' | 'microsoftGraph' | 'okta';

/** One letter per source, so a session stores provenance as one short string beside its groups. */
export const SOURCE_LETTER: Record<GroupSource, string> = {
  token: 't',
  userinfo: 'u',
  distributed: 'd',
  aggregated: 'a',
  microsoftGraph: 'g',
  okta: 'o',
};

/** What the lookups made of a user's groups. */
export interface GroupResolution {
  /** Kept groups, de-duplicated, in the order found. */
  groups: string[];
  /** Source of each kept group (same index as `groups`). */
  sources: GroupSource[];
  /** How many groups the filter dropped, and the first few of them (for explain). */
  dropped: { count: number; sample: string[] };
}

/**
 * The claim a session keeps its group provenance in: one letter of SOURCE_LETTER per group, in the
 * order of the groups claim, then `/` and the number of groups the filter dropped. Short on purpose:
 * it is stored with every session.
 */
export const GROUP_SOURCES_CLAIM = 'kob_group_sources';
