/** The path of a request URL (`req.url`) without its query string: what routes and audit lines match on. */
export function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
