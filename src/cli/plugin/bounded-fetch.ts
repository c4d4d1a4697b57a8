import type { CustomFetch } from 'openid-client';
import { BridgeError } from '../../core/errors.js';

/**
 * Every response the CLI reads from the issuer is read through here, with a size cap: a broken or
 * hostile issuer must not make the plugin buffer hundreds of megabytes (a 400 MB discovery document
 * once took it to 3.3 GB of memory). Metadata documents may be larger than grant responses.
 */
export const MAX_DISCOVERY_BYTES = 1024 * 1024;
/** Token, device authorization, userinfo and revocation responses. */
export const MAX_RESPONSE_BYTES = 64 * 1024;

/** The cap for one request: discovery documents live under `/.well-known/`. */
export function responseLimit(url: string): number {
  return new URL(url).pathname.includes('/.well-known/') ? MAX_DISCOVERY_BYTES : MAX_RESPONSE_BYTES;
}

function tooLarge(url: string, limit: number): BridgeError {
  const target = new URL(url);
  return new BridgeError(
    'ERR_OAUTH',
    `the issuer's response from ${target.origin}${target.pathname} is larger than ${limit / 1024} KiB; refusing it`,
  );
}

/** Reads a body, failing as soon as it passes `limit` bytes (the rest is never downloaded). */
async function readCapped(response: Response, url: string, limit: number): Promise<Uint8Array | null> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    await response.body?.cancel();
    throw tooLarge(url, limit);
  }
  if (!response.body) return null;
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      throw tooLarge(url, limit);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/** Wraps a fetch (the global one, or the private-CA one) so every body is size-capped. */
export function createBoundedFetch(inner: CustomFetch = (url, options) => fetch(url, options)): CustomFetch {
  return async (url, options) => {
    const response = await inner(url, options);
    const body = await readCapped(response, url, responseLimit(url));
    const empty = response.status === 204 || response.status === 304;
    return new Response(empty ? null : body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}
