import { getHonouringThrottle, type LookupBudget, lookupFailed } from './directory-fetch.js';

/** Most pages one directory lookup reads; with the per-page cap this bounds memory and time. */
export const MAX_DIRECTORY_PAGES = 200;
/** Most groups one lookup collects before the filter; beyond it the login is refused. */
export const MAX_DIRECTORY_GROUPS = 50_000;

/** One page of a directory listing: its items and the next page's URL, if any. */
export interface DirectoryPage {
  groups: string[];
  next?: string | undefined;
}

/**
 * Reads every page of a directory listing, following `next` only to the origin the lookup started
 * at: the credential sent with each request must never go to a host the admin did not configure.
 */
export async function readAllPages(
  budget: LookupBudget,
  firstUrl: string,
  headers: Record<string, string>,
  parsePage: (url: string, status: number, headers: Headers, body: string) => DirectoryPage,
): Promise<string[]> {
  const origin = new URL(firstUrl).origin;
  const groups: string[] = [];
  let url: string | undefined = firstUrl;
  for (let page = 0; url !== undefined; page++) {
    if (page >= MAX_DIRECTORY_PAGES) throw lookupFailed(firstUrl, `more than ${MAX_DIRECTORY_PAGES} pages`);
    const response = await getHonouringThrottle(budget, url, headers);
    const parsed = parsePage(url, response.status, response.headers, response.body);
    groups.push(...parsed.groups);
    if (groups.length > MAX_DIRECTORY_GROUPS) {
      throw lookupFailed(firstUrl, `the user has more than ${MAX_DIRECTORY_GROUPS} groups`);
    }
    url = parsed.next === undefined ? undefined : nextPageURL(parsed.next, url, origin);
  }
  return groups;
}

/** The next page's absolute URL, refused when it is not a URL or leaves the lookup's origin. */
function nextPageURL(next: string, current: string, origin: string): string {
  let parsed: URL;
  try {
    parsed = new URL(next, current);
  } catch {
    throw lookupFailed(current, 'the next page link is not a URL');
  }
  if (parsed.origin !== origin) throw lookupFailed(current, 'the next page points at another host');
  return parsed.href;
}
