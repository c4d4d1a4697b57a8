import type { Claims } from '../core/identity.js';

/**
 * Claims as CEL sees them. Kubernetes decodes claims with apimachinery's JSON decoder, which turns whole
 * numbers into int64, so `claims.exp - claims.nbf <= 86400` type-checks as int arithmetic; cel-js treats JS
 * numbers as doubles, hence whole numbers become BigInt here. Objects are copied only when something inside
 * changes (a spread copy defines own properties, so a `__proto__` claim stays a plain key).
 */
export function toCelClaims(claims: Claims): Claims {
  return toCelValue(claims) as Claims;
}

function toCelValue(value: unknown): unknown {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? BigInt(value) : value;
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const converted = toCelValue(value[i]);
      if (converted !== value[i]) {
        out ??= value.slice();
        out[i] = converted;
      }
    }
    return out ?? value;
  }
  let out: Record<string, unknown> | undefined;
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const converted = toCelValue(record[key]);
    if (converted !== record[key]) {
      out ??= { ...record };
      out[key] = converted;
    }
  }
  return out ?? value;
}

/** A value that is not a string or a list of strings, for the caller to report. */
export const NOT_STRINGS = Symbol('not a string or a list of strings');

/**
 * A mapping result as Kubernetes reads groups and extra values (oidc.go convertCELValueToStringList):
 * a string or a list of strings; `""`, `[]` and `null` mean "none", empty strings in a list are dropped.
 */
export function toStringList(value: unknown): string[] | typeof NOT_STRINGS {
  if (typeof value === 'string') return value === '' ? [] : [value];
  if (value === null) return [];
  if (!Array.isArray(value)) return NOT_STRINGS;
  const out: string[] = [];
  for (const item of value) {
    if (typeof item !== 'string') return NOT_STRINGS;
    if (item !== '') out.push(item);
  }
  return out;
}

/** The CEL type name of a result, for "must return a string" reasons. */
export function celTypeName(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'bigint') return 'int';
  if (typeof value === 'number') return 'double';
  if (Array.isArray(value)) return 'list';
  if (value instanceof Uint8Array) return 'bytes';
  if (typeof value !== 'object') return typeof value;
  const proto = Object.getPrototypeOf(value);
  if (proto === null || proto === Object.prototype || value instanceof Map) return 'map';
  return (value.constructor?.name ?? 'object').toLowerCase();
}
