/**
 * What the plugin accepts as a token from the issuer or from its cache before handing it to kubectl.
 * Import-free: the fast path checks cached tokens with it.
 */

/**
 * The longest token we cache or hand to kubectl. Ours are under 100 bytes; a server sending megabytes
 * must not fill the cache and every kubectl process's memory.
 */
export const MAX_TOKEN_LENGTH = 8 * 1024;

/** RFC 6750 §2.1 b64token: the characters a Bearer credential may hold (no space, no control). */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** True when `token` is a string kubectl can send as a Bearer credential and is within the cap. */
export function isAcceptableToken(token: unknown): token is string {
  return typeof token === 'string' && token.length <= MAX_TOKEN_LENGTH && B64TOKEN.test(token);
}
