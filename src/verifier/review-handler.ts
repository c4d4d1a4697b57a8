import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { StoreUnavailableError } from '../core/errors.js';
import { audit, type Logger } from '../core/logger.js';
import { redactCredentials } from '../core/redact.js';
import { RETRY_AFTER_SECONDS } from '../http/index.js';
import { ReviewShedError } from './bounded-lookup.js';
import { DeadlineSweep } from './deadline-sweep.js';
import {
  type AccessTokenLookup,
  decideTokenReview,
  type ReviewDecision,
  type ReviewDeps,
  type ReviewResult,
} from './review-decision.js';
import type { ReviewFailure, ReviewInstruments, VersionLabel } from './review-instruments.js';
import type { StoreOutageCircuit } from './store-outage-circuit.js';
import { parseTokenReview, serializeTokenReview } from './token-review.js';

export interface ReviewHandlerDeps extends ReviewDeps {
  instruments: ReviewInstruments;
  logger: Logger;
  maxBodyBytes: number;
  /** A review body not complete this long after its headers is answered 408 and its connection closed. */
  bodyTimeoutMs: number;
  /** Extra fields for every audit line (e.g. the insecure-transport marker). */
  auditFields?: Record<string, unknown>;
  /** Decides whether a 503 carries Retry-After; without it every 503 does. */
  storeOutage?: StoreOutageCircuit;
}

/** Facts about the caller, resolved once per connection by the server. */
export interface ReviewCaller {
  client?: string;
}

const SHED_WARNING_INTERVAL_MS = 10_000;

const VERSION_LABEL: Record<string, VersionLabel> = {
  'authentication.k8s.io/v1': 'v1',
  'authentication.k8s.io/v1beta1': 'v1beta1',
};

/**
 * A Kubernetes `Status` object: what the apiserver expects in the body of a non-2xx answer. On a
 * retryable 503 `details.retryAfterSeconds` repeats Retry-After, which client-go also reads as "retry".
 */
function statusBody(code: number, reason: string, message: string, retryable = false): string {
  const details = retryable ? { retryAfterSeconds: RETRY_AFTER_SECONDS } : undefined;
  return JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    status: 'Failure',
    reason,
    message,
    details,
    code,
  });
}

function send(
  res: ServerResponse,
  status: number,
  body: string,
  extraHeaders?: Record<string, string>,
): void {
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    ...extraHeaders,
  });
  res.end(body);
}

/** The store lookup, reporting to the circuit whether the store answered or failed. */
function observeStore(lookup: AccessTokenLookup, circuit: StoreOutageCircuit): AccessTokenLookup {
  return async (token) => {
    try {
      const found = await lookup(token);
      circuit.succeeded();
      return found;
    } catch (err) {
      if (err instanceof StoreUnavailableError) circuit.failed();
      throw err;
    }
  };
}

/**
 * The TokenReview endpoint as a bare node:http handler: read a bounded body, parse, run the guard
 * ladder (one store read), answer, then one metric update and one audit line. Deliberately not koa:
 * the review path is the hot path (docs/design.md §10).
 *
 * Status codes (docs/design.md §3): 200 for every decision; 400 for a malformed, oversized or wrong-kind
 * body; 503 when the store fails, which the apiserver never caches: with Retry-After (retried) unless
 * the store has been failing for longer than the outage window (see StoreOutageCircuit).
 */
export function createReviewHandler(
  deps: ReviewHandlerDeps,
): (req: IncomingMessage, res: ServerResponse, caller: ReviewCaller) => void {
  const { instruments, logger, maxBodyBytes, bodyTimeoutMs } = deps;
  const auditFields = deps.auditFields ?? {};
  const circuit = deps.storeOutage;
  const reviewDeps: ReviewDeps = circuit
    ? { ...deps, lookupAccessToken: observeStore(deps.lookupAccessToken, circuit) }
    : deps;
  // A client that sends headers and then trickles (or never sends) the body holds a connection and
  // a buffer: it gets 408 and the connection is closed.
  const bodyDeadlines = new DeadlineSweep<() => void>(bodyTimeoutMs, (expire) => expire());
  let lastShedWarning = Number.NEGATIVE_INFINITY;
  /** Shedding comes in bursts: one warning per burst (every review is counted and audited anyway). */
  function warnShed(): void {
    const now = performance.now();
    if (now - lastShedWarning < SHED_WARNING_INTERVAL_MS) return;
    lastShedWarning = now;
    logger.warn('shedding reviews: too many token store lookups in flight (verifier.limits.maxInFlight)');
  }

  function finish(
    started: number,
    result: ReviewResult | ReviewFailure,
    version: VersionLabel,
    caller: ReviewCaller,
    fields: { sessionId?: string; username?: string; reason?: string },
  ): void {
    const seconds = (performance.now() - started) / 1000;
    instruments.record(result, version, seconds);
    audit(logger, 'review', {
      result,
      version,
      sessionId: fields.sessionId,
      username: fields.username,
      reason: fields.reason,
      client: caller.client,
      latencyMs: Math.round(seconds * 1e6) / 1e3,
      ...auditFields,
    });
  }

  function badRequest(res: ServerResponse, started: number, caller: ReviewCaller, reason: string): void {
    // The body may be unread: close the connection rather than parse what follows as a new request.
    send(res, 400, statusBody(400, 'BadRequest', reason), { connection: 'close' });
    finish(started, 'bad_request', 'unknown', caller, { reason });
  }

  async function answer(body: string, res: ServerResponse, started: number, caller: ReviewCaller) {
    const parsed = parseTokenReview(body);
    if (!parsed.ok) {
      badRequest(res, started, caller, parsed.reason);
      return;
    }
    const review = parsed.review;
    const version = VERSION_LABEL[review.apiVersion] as VersionLabel;
    let decision: ReviewDecision;
    try {
      decision = await decideTokenReview(review, reviewDeps);
    } catch (err) {
      const shed = err instanceof ReviewShedError;
      if (shed) warnShed();
      else if (!(err instanceof StoreUnavailableError)) logger.error({ err }, 'token review failed');
      else instruments.storeError();
      // Retry-After makes the apiserver retry a 503; without it a 503 is final (docs/design.md §3).
      // Past the outage window a shed review is final too: lookups pile up because the store hangs.
      const retryable = circuit?.retryable() ?? true;
      const message = shed ? 'verifier overloaded' : 'token store unavailable';
      send(
        res,
        503,
        statusBody(503, 'ServiceUnavailable', retryable ? `${message}, retry` : message, retryable),
        retryable ? { 'retry-after': String(RETRY_AFTER_SECONDS) } : undefined,
      );
      finish(started, shed ? 'shed' : 'unavailable', version, caller, {
        reason: redactCredentials(String((err as Error).message)),
      });
      return;
    }
    send(res, 200, serializeTokenReview(review.apiVersion, decision.status));
    finish(started, decision.result, version, caller, decision);
  }

  function answerSafely(body: string, res: ServerResponse, started: number, caller: ReviewCaller): void {
    answer(body, res, started, caller).catch((err: unknown) => {
      // A bug past the decision (serialising, logging): drop the connection, never answer twice.
      logger.error({ err }, 'token review handler failed');
      res.destroy();
    });
  }

  return (req, res, caller) => {
    const started = performance.now();
    const declared = Number(req.headers['content-length']);
    if (declared > maxBodyBytes) {
      badRequest(res, started, caller, `body larger than ${maxBodyBytes} bytes`);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    const expire = () => {
      if (refused) return;
      refused = true;
      const reason = `body not received within ${bodyTimeoutMs} ms`;
      send(res, 408, statusBody(408, 'Timeout', reason), { connection: 'close' });
      finish(started, 'body_timeout', 'unknown', caller, { reason });
    };
    bodyDeadlines.add(expire);
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > maxBodyBytes) {
        refused = true;
        bodyDeadlines.delete(expire);
        badRequest(res, started, caller, `body larger than ${maxBodyBytes} bytes`);
        return;
      }
      chunks.push(chunk);
    });
    // A client that goes away mid-body: nothing to answer.
    req.on('error', () => {
      refused = true;
      bodyDeadlines.delete(expire);
    });
    req.on('end', () => {
      bodyDeadlines.delete(expire);
      if (refused) return;
      const body = chunks.length === 1 ? (chunks[0] as Buffer).toString() : Buffer.concat(chunks).toString();
      answerSafely(body, res, started, caller);
    });
  };
}
