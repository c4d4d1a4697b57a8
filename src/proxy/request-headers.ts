/**
 * What the proxy makes of a client's request headers, read from `rawHeaders` (every line as sent, any
 * case, repeats kept) rather than node's folded `headers` object, which keeps only the first of some
 * duplicates and would hide a second `Authorization` or `Content-Length`.
 */

/** Headers forwarded upstream: lowercase names, repeated names as arrays (sent as separate lines). */
export type ForwardHeaders = Record<string, string | string[]>;

export type RequestHeaderScan =
  | {
      ok: true;
      /** End-to-end headers to forward, without credentials, impersonation or hop-by-hop headers. */
      forward: ForwardHeaders;
      /** The first `Authorization` value (as Go's `Header.Get` reads it), if any. */
      authorization?: string;
    }
  | {
      ok: false;
      /** `impersonation`: the client sent its own Impersonate-* header (403); `bad_request`: 400. */
      result: 'impersonation' | 'bad_request';
      reason: string;
    };

/**
 * Hop-by-hop headers (RFC 9110 §7.6.1): meaningful for one connection only, never forwarded. Node
 * frames both bodies itself (Content-Length or chunked), so Transfer-Encoding is dropped too.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * Header names the proxy owns or that carry identity to the apiserver:
 * - `authorization`: the client's credential, replaced by the proxy's own;
 * - `x-forwarded-for`: replaced by the address the proxy saw (a client could otherwise plant one);
 * - `host`: set from the upstream URL;
 * - `expect`: node answers `100-continue` to the client itself; the body then simply follows upstream.
 */
const OWNED = new Set(['authorization', 'x-forwarded-for', 'host', 'expect']);

/**
 * `Impersonate-User`, `Impersonate-Group`, `Impersonate-Uid`, `Impersonate-Extra-*`, in any case. An
 * underscore spelling is treated the same: some intermediaries map `_` to `-`.
 */
export function isImpersonationHeader(lowerName: string): boolean {
  return lowerName.startsWith('impersonate-') || lowerName.startsWith('impersonate_');
}

/**
 * Request-header authentication (`--requestheader-*` flags): an apiserver trusts `X-Remote-User`,
 * `X-Remote-Group` and `X-Remote-Extra-*` from a front proxy's client certificate. If the proxy's own
 * credential were such a certificate, a client's copy would name any user: never forwarded.
 */
function isRequestHeaderIdentity(lowerName: string): boolean {
  return lowerName.startsWith('x-remote-');
}

/**
 * Scans the request headers once: refuses a request carrying its own impersonation headers and the
 * smuggling shapes (more than one Content-Length, Content-Length with Transfer-Encoding — node's parser
 * already refuses both; this keeps the rule true whatever the parser's leniency), and collects what is
 * forwarded. `upgrade` keeps `Connection: Upgrade` and `Upgrade` for a protocol switch.
 */
export function scanRequestHeaders(rawHeaders: readonly string[], upgrade = false): RequestHeaderScan {
  const forward: ForwardHeaders = {};
  let authorization: string | undefined;
  let contentLengths = 0;
  let transferEncoding = false;
  const connectionTokens: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    const value = rawHeaders[i + 1] as string;
    if (isImpersonationHeader(name)) {
      return { ok: false, result: 'impersonation', reason: 'impersonation headers are not accepted here' };
    }
    if (name === 'content-length') contentLengths += 1;
    else if (name === 'transfer-encoding') transferEncoding = true;
    else if (name === 'connection') connectionTokens.push(...value.toLowerCase().split(','));
    if (name === 'authorization') {
      authorization ??= value;
      continue;
    }
    if (HOP_BY_HOP.has(name) || OWNED.has(name) || isRequestHeaderIdentity(name)) continue;
    const previous = forward[name];
    if (previous === undefined) forward[name] = value;
    else if (typeof previous === 'string') forward[name] = [previous, value];
    else previous.push(value);
  }
  if (contentLengths > 1) {
    return { ok: false, result: 'bad_request', reason: 'more than one Content-Length header' };
  }
  if (contentLengths > 0 && transferEncoding) {
    return { ok: false, result: 'bad_request', reason: 'both Content-Length and Transfer-Encoding' };
  }
  // Headers the client named in Connection are hop-by-hop too (RFC 9110 §7.6.1).
  for (const token of connectionTokens) {
    const named = token.trim();
    if (named !== '' && named !== 'content-length') delete forward[named];
  }
  if (upgrade) {
    forward.connection = 'Upgrade';
    const protocol = rawHeaderValue(rawHeaders, 'upgrade');
    if (protocol !== undefined) forward.upgrade = protocol;
  }
  return { ok: true, forward, authorization };
}

/** The first value of a header in `rawHeaders`, by lowercase name. */
export function rawHeaderValue(rawHeaders: readonly string[], lowerName: string): string | undefined {
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if ((rawHeaders[i] as string).toLowerCase() === lowerName) return rawHeaders[i + 1];
  }
  return undefined;
}

/**
 * The upstream response's headers for the client, as a flat raw list (repeats and case kept), without
 * hop-by-hop headers; node frames the body again.
 */
export function responseHeaders(rawHeaders: readonly string[], upgrade = false): string[] {
  const named = new Set<string>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if ((rawHeaders[i] as string).toLowerCase() === 'connection') {
      for (const token of (rawHeaders[i + 1] as string).toLowerCase().split(',')) named.add(token.trim());
    }
  }
  const out: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    const keep = upgrade
      ? name === 'connection' || name === 'upgrade' || !(HOP_BY_HOP.has(name) || named.has(name))
      : !(HOP_BY_HOP.has(name) || named.has(name));
    if (keep) out.push(rawHeaders[i] as string, rawHeaders[i + 1] as string);
  }
  return out;
}
