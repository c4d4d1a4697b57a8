/**
 * How long (seconds) an access token's record stays readable after its `expiresAt`. The store does
 * not decide expiry for access tokens — the token service does, with the same clock — so a review of
 * a token that expired recently is answered `expired` (and counted so), not `unknown`. After this
 * window the key is gone and the answer is `unknown`, as for a token that never existed.
 */
export const EXPIRED_ACCESS_TOKEN_RETENTION = 600;
