import type { Clock } from '../../src/core/clock.js';
import type { UserInfo } from '../../src/core/identity.js';
import type { WebhookClient } from './apiserver-webhook-client.js';

/**
 * What the apiserver makes of a webhook answer, and how long it remembers it:
 * `WebhookTokenAuthenticator.AuthenticateToken` (audiences, `status.error`), wrapped by
 * `token/cache.cachedTokenAuthenticator` (--authentication-token-webhook-cache-ttl, default 2m, for
 * successes and plain denials; errors are never cached), wrapped by the group adder that appends
 * `system:authenticated`.
 */
export type AuthenticationOutcome =
  | { result: 'authenticated'; user: UserInfo; audiences: string[] }
  /** A plain denial: `authenticated:false` without `error`, or no audience in common. Cached. */
  | { result: 'denied'; reason: 'webhook' | 'audiences' }
  /** `authenticated:false` with `error`, or the call failed (non-2xx, transport, decoding). Not cached. */
  | { result: 'error'; message: string };

export interface TokenAuthenticatorOptions {
  client: WebhookClient;
  /** --api-audiences: sent as spec.audiences and used when the answer has none. Empty: no audience check. */
  apiAudiences: string[];
  /** Cache TTL in seconds (success and failure alike, as the webhook flags configure it). 0 disables. */
  cacheTTL: number;
  /**
   * The cache's `sharedLookupTimeout` (30 s): a lookup whose webhook call (retries included) takes
   * longer fails. With a 503 + Retry-After webhook that is what bounds a request.
   */
  lookupTimeoutMs?: number;
  clock: Clock;
}

interface CacheEntry {
  outcome: AuthenticationOutcome;
  expiresAt: number;
}

/** `authenticator.Audiences.Intersect`: the entries of `want` also in `got`, in `want`'s order. */
function intersect(want: string[], got: string[]): string[] {
  return want.filter((a) => got.includes(a));
}

/** Appends `system:authenticated` unless the user already is in it or in `system:unauthenticated`. */
function withAuthenticatedGroup(user: UserInfo): UserInfo {
  if (user.groups.some((g) => g === 'system:authenticated' || g === 'system:unauthenticated')) return user;
  return { ...user, groups: [...user.groups, 'system:authenticated'] };
}

export function createTokenAuthenticator(options: TokenAuthenticatorOptions) {
  const { client, apiAudiences, cacheTTL, clock } = options;
  const cache = new Map<string, CacheEntry>();
  const inFlight = new Map<string, Promise<AuthenticationOutcome>>();
  const stats = { hits: 0, misses: 0 };

  async function callWebhook(token: string): Promise<AuthenticationOutcome> {
    const call = await client.review(token, apiAudiences, Date.now() + (options.lookupTimeoutMs ?? 30_000));
    if (!call.ok) return { result: 'error', message: call.message };
    const status = call.status;
    let audiences: string[] = [];
    // The audience check comes first, so even an error-bearing answer for a foreign audience is a
    // plain (cached) denial, exactly as upstream orders it.
    if (apiAudiences.length > 0) {
      audiences = intersect(apiAudiences, status.audiences.length > 0 ? status.audiences : apiAudiences);
      if (audiences.length === 0) return { result: 'denied', reason: 'audiences' };
    }
    if (!status.authenticated) {
      return status.error
        ? { result: 'error', message: status.error }
        : { result: 'denied', reason: 'webhook' };
    }
    const { username, uid, groups, extra } = status.user;
    return { result: 'authenticated', user: { username, uid, groups, extra }, audiences };
  }

  /** The cached lookup; concurrent lookups of one key share a single webhook call. */
  async function lookup(token: string): Promise<AuthenticationOutcome> {
    const key = `${JSON.stringify(apiAudiences)}|${token}`;
    const cached = cache.get(key);
    if (cached && cached.expiresAt > clock.now()) {
      stats.hits++;
      return cached.outcome;
    }
    cache.delete(key);
    const pending = inFlight.get(key);
    if (pending) return pending;
    stats.misses++;
    const computing = callWebhook(token).finally(() => inFlight.delete(key));
    inFlight.set(key, computing);
    const outcome = await computing;
    if (outcome.result !== 'error' && cacheTTL > 0)
      cache.set(key, { outcome, expiresAt: clock.now() + cacheTTL });
    return outcome;
  }

  return {
    /** Authenticates a bearer token the way a request to the apiserver is authenticated. */
    async authenticate(token: string): Promise<AuthenticationOutcome> {
      const outcome = await lookup(token);
      return outcome.result === 'authenticated'
        ? { ...outcome, user: withAuthenticatedGroup(outcome.user) }
        : outcome;
    },
    /** Forgets every cached answer (as an apiserver restart would). */
    clearCache(): void {
      cache.clear();
    },
    /** Lookups answered from the cache vs. sent to the webhook. */
    stats,
  };
}

export type TokenAuthenticator = ReturnType<typeof createTokenAuthenticator>;
