import type { UserInfo } from '../core/identity.js';

/**
 * The TokenReview wire format, both API versions the apiserver speaks. Parsing is lenient where the
 * apiserver's own decoder is (unknown fields, `metadata: {}` since 1.34 or `{"creationTimestamp":null}`
 * before) and strict where a wrong answer could follow (kind, apiVersion, types of the fields we read).
 * @see https://kubernetes.io/docs/reference/access-authn-authz/authentication/#webhook-token-authentication
 */
export const TOKEN_REVIEW_VERSIONS = ['authentication.k8s.io/v1', 'authentication.k8s.io/v1beta1'] as const;

export type TokenReviewVersion = (typeof TOKEN_REVIEW_VERSIONS)[number];

/** What the verifier needs from a request: the version to answer in, the token, the audiences asked for. */
export interface TokenReviewRequest {
  apiVersion: TokenReviewVersion;
  token: string;
  /** `spec.audiences`; empty when the apiserver sent none. */
  audiences: string[];
}

export type TokenReviewParse = { ok: true; review: TokenReviewRequest } | { ok: false; reason: string };

/** `status` of the answer. A denial with `error` is not cached by the apiserver; a plain denial is. */
export type TokenReviewStatus =
  | { authenticated: true; user: UserInfo; audiences: string[] }
  | { authenticated: false; error?: string };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

/**
 * Parses a request body. Reasons name the offending field and never quote the token. A missing
 * `spec.token` reads as the empty string, as Go's decoder would (the ladder then denies it).
 */
export function parseTokenReview(body: string): TokenReviewParse {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return { ok: false, reason: 'body is not JSON' };
  }
  if (!isObject(value)) return { ok: false, reason: 'body is not a JSON object' };
  if (value.kind !== 'TokenReview') return { ok: false, reason: 'kind must be TokenReview' };
  const apiVersion = value.apiVersion;
  if (apiVersion !== TOKEN_REVIEW_VERSIONS[0] && apiVersion !== TOKEN_REVIEW_VERSIONS[1]) {
    return { ok: false, reason: `apiVersion must be one of ${TOKEN_REVIEW_VERSIONS.join(', ')}` };
  }
  if (value.metadata !== undefined && value.metadata !== null && !isObject(value.metadata)) {
    return { ok: false, reason: 'metadata must be an object' };
  }
  const spec = value.spec;
  if (!isObject(spec)) return { ok: false, reason: 'spec must be an object' };
  const token = spec.token ?? '';
  if (typeof token !== 'string') return { ok: false, reason: 'spec.token must be a string' };
  const audiences = spec.audiences ?? [];
  if (!isStringArray(audiences)) return { ok: false, reason: 'spec.audiences must be a list of strings' };
  return { ok: true, review: { apiVersion, token, audiences } };
}

/**
 * Serialises the answer in the version the request came in (the apiserver refuses any other). Empty
 * `uid`/`extra` are left out, as the Go types' `omitempty` would.
 */
export function serializeTokenReview(apiVersion: TokenReviewVersion, status: TokenReviewStatus): string {
  if (!status.authenticated) {
    return JSON.stringify({ apiVersion, kind: 'TokenReview', status });
  }
  const { username, uid, groups, extra } = status.user;
  const user: Partial<UserInfo> = { username };
  if (uid) user.uid = uid;
  user.groups = groups;
  if (Object.keys(extra).length > 0) user.extra = extra;
  return JSON.stringify({
    apiVersion,
    kind: 'TokenReview',
    status: { authenticated: true, user, audiences: status.audiences },
  });
}
