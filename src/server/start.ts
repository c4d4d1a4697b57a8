import { createServer } from 'node:http';
import { pino } from 'pino';
import type { Config } from '../config/index.js';
import { type Clock, systemClock } from '../core/clock.js';
import { createLogger, type Logger } from '../core/logger.js';
import {
  createMetrics,
  createOpsListener,
  type Metrics,
  type RunningServer,
  recordCertificateExpiry,
  startServer,
} from '../http/index.js';
import { compileMappingSet, type MappingSet } from '../mapping/index.js';
import { createStore, hasResilience, type TokenStore } from '../store/index.js';
import { TokenService } from '../tokens/index.js';

export interface StartOptions {
  /** Environment of the process (the composition root is the one place that may read it). */
  env: Record<string, string | undefined>;
  logger?: Logger;
  clock?: Clock;
  /** A pre-built store (e.g. the demo's memory store) instead of the one `config.store` describes. */
  store?: TokenStore;
}

/** Everything `serve` started; `close()` stops it gracefully. */
export interface RunningServices {
  verifierURL?: string;
  issuerURL?: string;
  proxyURL?: string;
  opsURL?: string;
  store: TokenStore;
  tokens: TokenService;
  mapping: MappingSet;
  metrics: Metrics;
  logger: Logger;
  /** Stops accepting, drains in-flight requests, then closes the store. Safe to call twice. */
  close(): Promise<void>;
}

/** Something started that must be stopped on close, in reverse order of starting. */
interface Stoppable {
  close(): Promise<void>;
}

/**
 * stdout for JSON logs, batched: one asynchronous write per audit line costs ~10× a review's own work
 * (measured on one pinned core), so lines are written in batches of about 15 KiB (just under
 * sonic-boom's largest single write; 4 KiB batches still cost ~8 % of a review), or every 250 ms when
 * traffic is low. Asynchronous, so a slow log collector never blocks reviews; pino flushes what is pending
 * when the process exits.
 */
function stdoutLogs() {
  return pino.destination({ dest: 1, sync: false, minLength: 15 * 1024, periodicFlush: 250 });
}

/** The longest any credential lives: revocations older than this protect nothing. */
export function longestTokenLifetime(config: Config): number {
  const { accessTokenTTL, refreshTokenTTL, maxSessionLifetime } = config.tokens;
  return Math.max(accessTokenTTL, refreshTokenTTL, maxSessionLifetime);
}

/**
 * The composition root: builds the world from the configuration and starts the roles it enables.
 * Mapping rules are compiled before anything connects or listens, so a bad rule stops start-up with
 * its path in the message. Listeners accept port 0 (tests) and report their real URLs.
 *
 * Each role's modules are imported only when the role is on: module loading is most of a cold start,
 * and a replica of one role should not pay for the others' (docs/benchmarks.md, "cold start").
 */
export async function startServices(config: Config, options: StartOptions): Promise<RunningServices> {
  const logger = options.logger ?? createLogger({ level: config.logging.level, destination: stdoutLogs() });
  const clock = options.clock ?? systemClock;
  const mapping = await compileMappingSet(config);
  const metrics = createMetrics();
  const store =
    options.store ??
    createStore(config.store, {
      clock,
      logger,
      revocationJournalTTL: longestTokenLifetime(config),
      onDataLoss: () => metrics.storeDataLoss.inc(),
    });
  const tokens = new TokenService({ store, clock, config: config.tokens });

  const started: Stoppable[] = [];
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      // Listeners first (drain in parallel), the store last: in-flight requests still need it.
      await Promise.allSettled(started.reverse().map((s) => s.close()));
      await store.close();
      logger.info('stopped');
    })();
    return closing;
  };

  const storeRecentlyLost = async () => {
    // Asked when a token is unknown: the markers are checked first, so a store that just lost its
    // data is not read as a mass revocation. Tokens issued before a loss are all expired one
    // access-token lifetime after it.
    const loss = hasResilience(store) ? await store.confirmIntact() : undefined;
    return loss !== undefined && clock.now() - loss.detectedAt < config.tokens.accessTokenTTL;
  };

  try {
    let verifier: RunningServer | undefined;
    if (config.verifier) {
      const { startVerifier } = await import('../verifier/index.js');
      verifier = await startVerifier({
        config: config.verifier,
        lookupAccessToken: (token) => tokens.lookupAccessToken(token),
        mapping,
        store,
        metrics,
        logger,
        clock,
        storeRecentlyLost,
      });
      started.push(verifier);
      const tls = config.verifier.insecureHTTP ? undefined : config.verifier.tls;
      if (tls) recordCertificateExpiry(metrics, 'verifier', { serving: tls.cert, client_ca: tls.clientCA });
    }

    // ── Issuer role ────────────────────────────────────────────────────────────────────────────
    // Browser sign-in pages and the CLI's OAuth endpoints, one router.
    let issuerURL: string | undefined;
    if (config.issuer) {
      const { startIssuer } = await import('../issuer/index.js');
      const issuer = await startIssuer({ config, store, tokens, mapping, metrics, logger, clock });
      started.push(issuer);
      issuerURL = issuer.url;
    }
    // ─────────────────────────────────────────────────────────────────────────────────────────────

    // ── Proxy role ─────────────────────────────────────────────────────────────────────────────
    // The verifier's decision in front of an apiserver whose flags nobody can set (docs/proxy.md).
    let proxy: RunningServer | undefined;
    const proxyConfig = config.proxy;
    if (proxyConfig) {
      const [{ resolveUpstream, startProxy }, { decideTokenReview, IdentityMemo }] = await Promise.all([
        import('../proxy/index.js'),
        import('../verifier/index.js'),
      ]);
      const reviewDeps = {
        lookupAccessToken: (token: string) => tokens.lookupAccessToken(token),
        mapping,
        audiences: proxyConfig.audiences,
        storeRecentlyLost,
        // The same memo the verifier keeps: the rules run once per identity, not once per request.
        memo: new IdentityMemo(),
      };
      proxy = await startProxy({
        config: proxyConfig,
        upstream: resolveUpstream(proxyConfig, { env: options.env, clock }),
        decide: (review) => decideTokenReview(review, reviewDeps),
        metrics,
        logger,
      });
      started.push(proxy);
    }

    let ops: RunningServer | undefined;
    if (config.ops) {
      ops = await startServer(createServer(createOpsListener({ store, metrics, logger })), {
        protocol: 'http',
        listen: config.ops.listen,
      });
      started.push(ops);
      logger.info({ url: ops.url }, 'ops endpoints listening');
    }

    return {
      verifierURL: verifier?.url,
      issuerURL,
      proxyURL: proxy?.url,
      opsURL: ops?.url,
      store,
      tokens,
      mapping,
      metrics,
      logger,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
