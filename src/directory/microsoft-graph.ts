import type { LookupBudget } from './directory-fetch.js';
import { lookupFailed, parseJsonObject } from './directory-fetch.js';
import { type DirectoryPage, readAllPages } from './directory-paging.js';

export interface MicrosoftGraphSettings {
  /** Graph base URL, e.g. https://graph.microsoft.com/v1.0. */
  endpoint: string;
  groupNames: 'id' | 'displayName';
}

/**
 * The signed-in user's groups from Microsoft Graph, nested memberships included
 * (`/me/transitiveMemberOf`), read with the user's own upstream access token (delegated
 * `GroupMember.Read.All`), following `@odata.nextLink` and honouring `Retry-After`. No OData cast and
 * no `ConsistencyLevel: eventual`: the cast is an advanced query (it needs both, and `$count`), which
 * reads an index that may lag behind the directory; a membership removed must be gone at the next
 * refresh. Directory roles and administrative units in the answer are skipped by their `@odata.type`.
 * @see https://learn.microsoft.com/graph/api/user-list-transitivememberof
 * @see https://learn.microsoft.com/graph/aad-advanced-queries
 */
export async function microsoftGraphGroups(
  budget: LookupBudget,
  settings: MicrosoftGraphSettings,
  accessToken: string | undefined,
): Promise<string[]> {
  const base = settings.endpoint.replace(/\/+$/, '');
  // 999 is the largest page Graph serves for directory objects.
  const first = `${base}/me/transitiveMemberOf?$select=id,displayName&$top=999`;
  if (!accessToken) throw lookupFailed(first, 'the upstream returned no access token to call Graph with');
  const headers = { authorization: `Bearer ${accessToken}` };
  return readAllPages(budget, first, headers, (url, status, _headers, body) =>
    parseGraphPage(url, status, body, settings.groupNames),
  );
}

const GROUP_TYPE = '#microsoft.graph.group';

function parseGraphPage(
  url: string,
  status: number,
  body: string,
  groupNames: MicrosoftGraphSettings['groupNames'],
): DirectoryPage {
  if (status === 401) {
    throw lookupFailed(
      url,
      'Graph refused the access token (expired, or the upstream does not request GroupMember.Read.All)',
    );
  }
  if (status === 403)
    throw lookupFailed(url, 'Graph denied the request (admin consent for GroupMember.Read.All missing?)');
  if (status !== 200) throw lookupFailed(url, `HTTP ${status}`);
  const page = parseJsonObject(url, body);
  const items = page['value'];
  if (!Array.isArray(items)) throw lookupFailed(url, 'the page has no value array');
  const groups: string[] = [];
  for (const item of items) {
    const type = (item as Record<string, unknown> | null)?.['@odata.type'];
    if (typeof type !== 'string') throw lookupFailed(url, 'a directory object has no @odata.type');
    if (type !== GROUP_TYPE) continue;
    const name = (item as Record<string, unknown>)[groupNames];
    if (typeof name !== 'string' || name === '') throw lookupFailed(url, `a group has no ${groupNames}`);
    groups.push(name);
  }
  const next = page['@odata.nextLink'];
  return { groups, next: typeof next === 'string' ? next : undefined };
}
