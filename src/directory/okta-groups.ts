import type { LookupBudget } from './directory-fetch.js';
import { lookupFailed } from './directory-fetch.js';
import { type DirectoryPage, readAllPages } from './directory-paging.js';

export interface OktaSettings {
  /** e.g. https://example.okta.com */
  orgURL: string;
  /** An API token (`SSWS`), resolved from its file or env reference. */
  apiToken: string;
  groupNames: 'name' | 'id';
}

/**
 * A user's groups from the Okta Users API (`/api/v1/users/{id}/groups`), beyond the 100 a token can
 * carry: paged by the `Link: <…>; rel="next"` header, waiting out `429` until `X-Rate-Limit-Reset`.
 * @see https://developer.okta.com/docs/api/openapi/okta-management/management/tag/UserResources/
 */
export async function oktaGroups(
  budget: LookupBudget,
  settings: OktaSettings,
  userId: string,
): Promise<string[]> {
  const base = settings.orgURL.replace(/\/+$/, '');
  const first = `${base}/api/v1/users/${encodeURIComponent(userId)}/groups?limit=200`;
  const headers = { authorization: `SSWS ${settings.apiToken}` };
  return readAllPages(budget, first, headers, (url, status, responseHeaders, body) =>
    parseOktaPage(url, status, responseHeaders, body, settings.groupNames),
  );
}

/**
 * The `rel="next"` target of a Link header, if any.
 * @see https://www.rfc-editor.org/rfc/rfc8288#section-3
 */
export function nextLink(header: string | null): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(',')) {
    const match = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (match && /(^|;)\s*rel="?next"?\s*(;|$)/i.test(match[2] ?? '')) return match[1];
  }
  return undefined;
}

function parseOktaPage(
  url: string,
  status: number,
  headers: Headers,
  body: string,
  groupNames: OktaSettings['groupNames'],
): DirectoryPage {
  if (status === 401) throw lookupFailed(url, 'Okta refused the API token (expired or revoked?)');
  if (status === 403) throw lookupFailed(url, 'the Okta API token may not read users and groups');
  if (status === 404) throw lookupFailed(url, 'Okta does not know this user');
  if (status !== 200) throw lookupFailed(url, `HTTP ${status}`);
  let items: unknown;
  try {
    items = JSON.parse(body);
  } catch {
    throw lookupFailed(url, 'the response is not JSON');
  }
  if (!Array.isArray(items)) throw lookupFailed(url, 'the response is not a JSON array of groups');
  const groups: string[] = [];
  for (const item of items) {
    const group = item as { id?: unknown; profile?: { name?: unknown } } | null;
    const name = groupNames === 'id' ? group?.id : group?.profile?.name;
    if (typeof name !== 'string' || name === '') throw lookupFailed(url, `a group has no ${groupNames}`);
    groups.push(name);
  }
  return { groups, next: nextLink(headers.get('link')) };
}
