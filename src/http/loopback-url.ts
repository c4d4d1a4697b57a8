/**
 * True when `url` is plain `http:` to this machine: `localhost`, `[::1]` or an address in 127.0.0.0/8.
 * The only case where the project relaxes a transport rule: the CLI accepts an http issuer (openid-client's
 * allowInsecureRequests), and the issuer's cookies drop `Secure` (browsers treat these origins as
 * potentially trustworthy). Names that merely end in `.localhost` are not included: a resolver may send
 * them elsewhere.
 */
export function isLoopbackHttp(url: URL): boolean {
  if (url.protocol !== 'http:') return false;
  const host = url.hostname;
  return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
