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
 * (`/me/transitiveMemberOf/microsoft.graph.group`), read with the user's own upstream access token
 * (delegated `GroupMember.Read.All`), following `@odata.nextLink` and honouring `Retry-After`.
 * @see https://learn.microsoft.com/graph/api/user-list-transitivememberof
 */
export async function microsoftGraphGroups(
  budget: LookupBudget,
  settings: MicrosoftGraphSettings,
  accessToken: string | undefined,
): Promise<string[]> {
  const base = settings.endpoint.replace(/\/+$/, '');
  const first = `${base}/me/transitiveMemberOf/microsoft.graph.group?$select=id,displayName&$top=999`;
  if (!accessToken) throw lookupFailed(first, 'the upstream returned no access token to call Graph with');
  const headers = { authorization: `Bearer ${accessToken}`, consistencylevel: 'eventual' };
  return readAllPages(budget, first, headers, (url, status, _headers, body) =>
    parseGraphPage(url, status, body, settings.groupNames),
  );
}

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
    const name = (item as Record<string, unknown> | null)?.[groupNames];
    if (typeof name !== 'string' || name === '') throw lookupFailed(url, `a group has no ${groupNames}`);
    groups.push(name);
  }
  const next = page['@odata.nextLink'];
  return { groups, next: typeof next === 'string' ? next : undefined };
}
