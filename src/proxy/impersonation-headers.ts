import type { UserInfo } from '../core/identity.js';
import type { ForwardHeaders } from './request-headers.js';

/**
 * The identity a request is served as, in the apiserver's impersonation headers.
 * @see https://kubernetes.io/docs/reference/access-authn-authz/authentication/#user-impersonation
 */
export type ImpersonationHeaders = { ok: true; headers: ForwardHeaders } | { ok: false; reason: string };

/** Characters allowed in a header name (RFC 9110 `tchar`) other than `%`, which escapes the rest. */
const HEADER_TOKEN_CHAR = /[!#$&'*+\-.^_`|~0-9A-Za-z]/;

/**
 * An `extra` key as a header-name suffix: every character that cannot appear in a header name (and `%`
 * itself) percent-encoded as UTF-8, which the apiserver undoes with `url.PathUnescape` after lowercasing
 * the name — so keys are lowercase (the mapping enforces it) and `/` travels as `%2F`.
 */
export function encodeExtraKey(key: string): string {
  let out = '';
  for (const char of key) {
    if (HEADER_TOKEN_CHAR.test(char)) out += char;
    else
      for (const byte of Buffer.from(char, 'utf8'))
        out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;

/**
 * A header value as the apiserver (Go, bytes) will read it: UTF-8. Node writes header strings as
 * latin1, so a non-ASCII value is handed over as its UTF-8 bytes spelled in latin1. Control characters
 * could end the header line: such a value is refused, never sent.
 */
function headerValue(value: string): string | undefined {
  if (CONTROL.test(value)) return undefined;
  return /^[\u0000-\u007f]*$/.test(value) ? value : Buffer.from(value, 'utf8').toString('latin1');
}

/**
 * `Impersonate-User`, `Impersonate-Uid`, one `Impersonate-Group` per group and one
 * `Impersonate-Extra-<key>` line per extra value. An identity a header cannot carry faithfully is
 * refused with the reason (never the value, which may be personal data).
 */
export function impersonationHeaders(user: UserInfo): ImpersonationHeaders {
  const headers: ForwardHeaders = {};
  const username = headerValue(user.username);
  if (username === undefined || username === '') return { ok: false, reason: 'username not representable' };
  headers['impersonate-user'] = username;
  if (user.uid) {
    const uid = headerValue(user.uid);
    if (uid === undefined) return { ok: false, reason: 'uid not representable' };
    headers['impersonate-uid'] = uid;
  }
  if (user.groups.length > 0) {
    const groups: string[] = [];
    for (const group of user.groups) {
      const value = headerValue(group);
      if (value === undefined) return { ok: false, reason: 'a group is not representable' };
      groups.push(value);
    }
    headers['impersonate-group'] = groups;
  }
  for (const [key, values] of Object.entries(user.extra)) {
    if (values.length === 0) continue;
    const encoded: string[] = [];
    for (const v of values) {
      const value = headerValue(v);
      if (value === undefined) return { ok: false, reason: `a value of extra ${key} is not representable` };
      encoded.push(value);
    }
    headers[`impersonate-extra-${encodeExtraKey(key)}`] = encoded;
  }
  return { ok: true, headers };
}
