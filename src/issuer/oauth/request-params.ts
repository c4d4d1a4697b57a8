import type Koa from 'koa';
import { readFormBody } from '../web/form-body.js';

/**
 * Request parameters of the OAuth endpoints. RFC 6749 §3.1/§3.2: a parameter must not appear twice
 * (except `audience`/`resource`, see audience.ts); unknown parameters are ignored.
 */
export type ParamsResult = { ok: true; params: URLSearchParams } | { ok: false; description: string };

const REPEATABLE = new Set(['audience', 'resource']);

export function checkNoRepeats(params: URLSearchParams): ParamsResult {
  const seen = new Set<string>();
  for (const key of params.keys()) {
    if (seen.has(key) && !REPEATABLE.has(key)) return { ok: false, description: `parameter ${key} repeated` };
    seen.add(key);
  }
  return { ok: true, params };
}

/** The form body of a POST endpoint (token, device authorization, revocation). */
export async function readOAuthForm(ctx: Koa.Context): Promise<ParamsResult> {
  let params: URLSearchParams;
  try {
    params = await readFormBody(ctx.req);
  } catch (err) {
    return { ok: false, description: (err as Error).message };
  }
  return checkNoRepeats(params);
}

/**
 * The client of a token/device/revocation request: `client_id` in the body, or the user part of HTTP
 * Basic (some clients send `client_id:` with an empty secret). Public client: there is no secret.
 */
export function requestClientId(ctx: Koa.Context, params: URLSearchParams): string | undefined {
  const fromBody = params.get('client_id') ?? undefined;
  const header = ctx.get('authorization');
  if (!header.toLowerCase().startsWith('basic ')) return fromBody;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  let fromHeader: string;
  try {
    // RFC 6749 §2.3.1: the client id is form-urlencoded before Basic encoding.
    fromHeader = decodeURIComponent(decoded.split(':')[0] ?? '');
  } catch {
    return undefined; // not valid percent-encoding: an unknown client (401), not a server error
  }
  return fromBody && fromBody !== fromHeader ? undefined : fromHeader;
}
