import { StoreUnavailableError } from '../core/errors.js';
import { DeadlineSweep } from './deadline-sweep.js';
import type { AccessTokenLookup } from './review-decision.js';

/** Too many store lookups in flight: the review is shed (503 + Retry-After) without asking the store. */
export class ReviewShedError extends Error {
  constructor() {
    super('too many token store lookups in flight');
    this.name = 'ReviewShedError';
  }
}

type Waiting = (err: Error) => void;

/**
 * Wraps the store lookup with a per-review deadline shorter than the store's command timeout, and a
 * bound on lookups in flight. A hung Redis used to hold every review for the full command timeout
 * (≈1,000 in flight at 500 req/s, RSS to 151 MB); now a review waits about `deadlineMs` at most
 * (see DeadlineSweep) and, once `maxInFlight` lookups are pending (they still run until the command
 * timeout), further reviews are refused at once. Both end in a retryable 503: never a denial, never
 * `authenticated: true`.
 */
export function boundLookup(
  lookup: AccessTokenLookup,
  limits: { deadlineMs: number; maxInFlight: number },
): AccessTokenLookup {
  let inFlight = 0;
  const deadlines = new DeadlineSweep<Waiting>(limits.deadlineMs, (reject) =>
    reject(new StoreUnavailableError(`token store did not answer within ${limits.deadlineMs} ms`)),
  );
  return (token) => {
    if (inFlight >= limits.maxInFlight) return Promise.reject(new ReviewShedError());
    inFlight += 1;
    return new Promise((resolve, reject) => {
      deadlines.add(reject);
      lookup(token).then(
        (found) => {
          inFlight -= 1;
          deadlines.delete(reject);
          resolve(found);
        },
        (err: unknown) => {
          inFlight -= 1;
          deadlines.delete(reject);
          reject(err);
        },
      );
    });
  };
}
