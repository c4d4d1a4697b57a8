import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { VerifierConfig } from '../config/index.js';
import { type Clock, systemClock } from '../core/clock.js';
import { ConfigError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import {
  createOpsListener,
  jsonAnswer,
  type Metrics,
  pathOf,
  type RunningServer,
  routePath,
  sendAnswer,
  startServer,
} from '../http/index.js';
import type { MappingSet } from '../mapping/index.js';
import type { TokenStore } from '../store/index.js';
import { boundLookup } from './bounded-lookup.js';
import { isSubjectAllowed, readClientIdentity } from './client-certificate.js';
import { IdentityMemo } from './identity-memo.js';
import type { AccessTokenLookup } from './review-decision.js';
import { createReviewHandler, type ReviewCaller } from './review-handler.js';
import { ReviewInstruments } from './review-instruments.js';
import { resolveLimits } from './serving-limits.js';
import { StoreOutageCircuit } from './store-outage-circuit.js';

export interface VerifierDeps {
  config: VerifierConfig;
  /** TokenService.lookupAccessToken (bound). */
  lookupAccessToken: AccessTokenLookup;
  mapping: MappingSet;
  /** For /readyz on the verifier listener. */
  store: TokenStore;
  metrics: Metrics;
  logger: Logger;
  /** See ReviewDeps.storeRecentlyLost. */
  storeRecentlyLost?: () => boolean | Promise<boolean>;
  /** Times the store outage window (see StoreOutageCircuit); the system clock when absent. */
  clock?: Clock;
}

/**
 * Idle keep-alive connections stay open longer than Go's default IdleConnTimeout (90 s), so the
 * apiserver closes them first and never sends a request into a socket we are closing.
 */
const KEEP_ALIVE_TIMEOUT_MS = 120_000;
/** How often node checks headersTimeout/requestTimeout (its default, 30 s, would let them overrun). */
const TIMEOUT_CHECK_INTERVAL_MS = 1000;
/** At most one "connection limit reached" warning per this interval. */
const DROP_WARNING_INTERVAL_MS = 10_000;

/** Per-connection facts, computed at the first request of a connection, not on every request. */
interface ConnectionFacts extends ReviewCaller {
  allowed: boolean;
}

/**
 * Starts the verifier: HTTPS with a required client certificate verified against
 * `verifier.tls.clientCA` (the CA list is also what the server advertises, and Go only sends a
 * certificate its issuer is in), optionally pinned to `allowedSubjects`; plain HTTP only with
 * `insecureHTTP: true`. `POST verifier.path` (query ignored: the apiserver may add `?timeout=30s`) is
 * answered by the bare review handler, any other method on that path by a 405, everything else by the
 * ops listener (`/healthz`, `/readyz`, `/metrics`, 404).
 */
export async function startVerifier(deps: VerifierDeps): Promise<RunningServer> {
  const { config, logger } = deps;
  const tls = config.tls;
  // The schema refuses this too; the verifier must not fall open to plain HTTP when handed it anyway.
  if (tls === undefined && !config.insecureHTTP) {
    throw new ConfigError([
      { path: 'verifier.tls', message: 'is required (or set insecureHTTP: true, never in production)' },
    ]);
  }
  const insecure = tls === undefined || config.insecureHTTP;
  if (insecure) {
    logger.warn(
      { insecureHTTP: true },
      'VERIFIER IS SERVING PLAIN HTTP WITHOUT CLIENT CERTIFICATES: anyone who can reach it can test tokens. Never use insecureHTTP in production.',
    );
  }

  const limits = resolveLimits(config);
  const review = createReviewHandler({
    lookupAccessToken: boundLookup(deps.lookupAccessToken, {
      deadlineMs: limits.storeDeadlineMs,
      maxInFlight: limits.maxInFlight,
    }),
    mapping: deps.mapping,
    audiences: config.audiences,
    storeRecentlyLost: deps.storeRecentlyLost,
    memo: new IdentityMemo(),
    instruments: new ReviewInstruments(deps.metrics),
    logger,
    maxBodyBytes: config.maxBodyBytes,
    bodyTimeoutMs: limits.bodyTimeoutMs,
    auditFields: insecure ? { transport: 'insecure-http' } : undefined,
    storeOutage: new StoreOutageCircuit(
      config.storeOutageRetryWindow,
      deps.clock ?? systemClock,
      (open, failingForSeconds) => {
        if (open) {
          logger.warn(
            { failingForSeconds },
            'token store failing for longer than verifier.storeOutageRetryWindow: answering 503 without Retry-After, so the apiserver denies at once instead of retrying',
          );
        } else logger.info({ failingForSeconds }, 'token store answers again: 503s carry Retry-After again');
      },
    ),
  });

  const ops = createOpsListener(deps);
  const notPosted = jsonAnswer(
    405,
    { error: 'ERR_INPUT_INVALID', message: 'TokenReview requests are POSTed' },
    { allow: 'POST' },
  );

  const allowedSubjects = insecure ? undefined : tls?.allowedSubjects;
  const connections = new WeakMap<Socket, ConnectionFacts>();
  function connectionFacts(socket: Socket): ConnectionFacts {
    let facts = connections.get(socket);
    if (!facts) {
      const identity = readClientIdentity(socket);
      const allowed = allowedSubjects === undefined || isSubjectAllowed(identity, allowedSubjects);
      facts = { client: identity?.commonName, allowed };
      if (!allowed) {
        logger.warn(
          { client: identity?.commonName, dnsNames: identity?.dnsNames },
          'client certificate subject is not in verifier.tls.allowedSubjects',
        );
      }
      connections.set(socket, facts);
    }
    return facts;
  }

  const reviewPath = config.path;
  const reviewRoute = routePath(reviewPath);
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const facts = connectionFacts(req.socket);
    if (!facts.allowed) {
      res.writeHead(403, { 'content-type': 'text/plain', connection: 'close' });
      res.end('client certificate subject not allowed\n');
      return;
    }
    const path = pathOf(req.url ?? '/');
    if (req.method === 'POST' && path === reviewPath) review(req, res, facts);
    else if (routePath(path) === reviewRoute) sendAnswer(res, notPosted);
    else void ops(req, res);
  };

  const serverOptions = {
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
  };
  const server = insecure
    ? createHttpServer(serverOptions, listener)
    : createHttpsServer(
        {
          ...serverOptions,
          handshakeTimeout: limits.tlsHandshakeTimeoutMs,
          cert: readFileSync(tls.cert),
          key: readFileSync(tls.key),
          ca: readFileSync(tls.clientCA),
          requestCert: true,
          rejectUnauthorized: true,
          minVersion: 'TLSv1.2',
        },
        listener,
      );
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.maxConnections = limits.maxConnections;
  const refused = deps.metrics.connectionsRefused.labels({ role: 'verifier' });
  let lastDropWarning = Number.NEGATIVE_INFINITY;
  // node closes a connection over the limit without a word: say so (once per interval), and count.
  server.on('drop', (data?: { remoteAddress?: string }) => {
    refused.inc();
    const now = Date.now();
    if (now - lastDropWarning < DROP_WARNING_INTERVAL_MS) return;
    lastDropWarning = now;
    logger.warn(
      { maxConnections: limits.maxConnections, remoteAddress: data?.remoteAddress },
      'connection limit reached: refusing new connections (verifier.limits.maxConnections)',
    );
  });
  const running = await startServer(server, { protocol: insecure ? 'http' : 'https', listen: config.listen });
  logger.info({ url: running.url, path: reviewPath, mtls: !insecure }, 'verifier listening');
  return running;
}
