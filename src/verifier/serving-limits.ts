import type { VerifierConfig } from '../config/index.js';

/** `verifier.limits` with every default filled in; times in milliseconds. */
export interface ServingLimits {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  bodyTimeoutMs: number;
  tlsHandshakeTimeoutMs: number;
  maxConnections: number;
  storeDeadlineMs: number;
  maxInFlight: number;
}

/**
 * Defaults sized for a webhook whose one client (the apiserver) keeps a few connections open and
 * waits up to its own webhook timeout: slow or silent peers are cut within seconds, not node's
 * 60 s / 300 s / 120 s, and a hung store holds a review for well under the apiserver's patience.
 */
export const DEFAULT_LIMITS: ServingLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  bodyTimeoutMs: 10_000,
  tlsHandshakeTimeoutMs: 10_000,
  maxConnections: 4096,
  storeDeadlineMs: 750,
  maxInFlight: 512,
};

export function resolveLimits(config: VerifierConfig): ServingLimits {
  const given = config.limits ?? {};
  const seconds = (value: number | undefined, fallback: number) =>
    value === undefined ? fallback : value * 1000;
  return {
    headersTimeoutMs: seconds(given.headersTimeout, DEFAULT_LIMITS.headersTimeoutMs),
    requestTimeoutMs: seconds(given.requestTimeout, DEFAULT_LIMITS.requestTimeoutMs),
    bodyTimeoutMs: seconds(given.bodyTimeout, DEFAULT_LIMITS.bodyTimeoutMs),
    tlsHandshakeTimeoutMs: seconds(given.tlsHandshakeTimeout, DEFAULT_LIMITS.tlsHandshakeTimeoutMs),
    maxConnections: given.maxConnections ?? DEFAULT_LIMITS.maxConnections,
    storeDeadlineMs: given.storeDeadlineMs ?? DEFAULT_LIMITS.storeDeadlineMs,
    maxInFlight: given.maxInFlight ?? DEFAULT_LIMITS.maxInFlight,
  };
}
