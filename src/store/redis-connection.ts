import type { RedisConfig } from '../config/index.js';
import { StoreUnavailableError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { redactCredentials } from '../core/redact.js';
import { connectClient, createRedisClient, type RedisClient } from './redis-client.js';

/** Reconnect backoff: 100 ms doubling to this cap, so a restarted Redis is found again within ~2 s. */
const MAX_RECONNECT_DELAY_MS = 2_000;
/**
 * With Sentinel a lost primary means a failover is probably under way: every attempt asks the
 * sentinels, and the sooner this process reaches the promoted replica, the sooner it replays the
 * revocations the replica may lack (until then other processes may accept those tokens there).
 */
const MAX_SENTINEL_RECONNECT_DELAY_MS = 250;
const FIRST_RECONNECT_DELAY_MS = 100;

/**
 * One ioredis client (a standalone or Sentinel-managed connection, or a Cluster client) with the failure behaviour a TokenReview webhook needs:
 *
 * - **fail fast** while Redis is away: no offline queue, no resending of commands that were in flight
 *   when the connection dropped (a replayed GETDEL or INCR would be wrong), a per-command timeout;
 *   callers get StoreUnavailableError and answer with a retryable 5xx instead of hanging;
 * - **heal by itself**: after a drop, reconnect attempts run in the background with capped
 *   exponential backoff, and a call that arrives while no attempt is running starts one at once, so
 *   the first request after Redis comes back succeeds without restarting the process. Until the
 *   first connection, calls wait for the attempt in flight (a CLI command right after start-up).
 *
 * ioredis' own retry loop is switched off (`retryStrategy`/`clusterRetryStrategy: null`) because its
 * timer cannot be brought forward by an arriving request; this class owns reconnection instead. With
 * Sentinel every attempt asks the sentinels for the current primary; with Cluster every attempt
 * reloads the slot map from the seed nodes.
 */
export class RedisConnection {
  readonly client: RedisClient;
  private readonly logger: Logger | undefined;
  private readonly attemptTimeoutMs: number;
  private attempt: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private lastError: Error | undefined;
  private closed = false;
  private readonly afterConnect: (() => Promise<void>)[] = [];
  private readonly primaryChanged: (() => void)[] = [];
  private primaryAddress: string | undefined;
  private readonly maxReconnectDelayMs: number;

  constructor(config: RedisConfig, logger?: Logger) {
    this.logger = logger;
    this.maxReconnectDelayMs = config.sentinel ? MAX_SENTINEL_RECONNECT_DELAY_MS : MAX_RECONNECT_DELAY_MS;
    this.attemptTimeoutMs = (config.connectTimeout + config.commandTimeout) * 1000;
    this.client = createRedisClient(config);
    this.client.on('error', (err: Error) => this.onError(err));
    this.client.on('ready', () => this.onReady());
    this.client.on('end', () => this.onEnd());
    this.connectNow().catch(() => undefined);
  }

  /**
   * Resolves when the connection can take a command; rejects with StoreUnavailableError when Redis
   * cannot be reached. Returns `undefined` (no promise, no extra tick) when already connected: the
   * review hot path pays nothing for the check.
   */
  ready(): Promise<void> | undefined {
    if (this.client.status === 'ready' && this.attempt === undefined) return undefined;
    if (this.closed) return Promise.reject(new StoreUnavailableError('redis store is closed'));
    // During an outage one request carries the reconnect attempt and the others fail at once, so a
    // Redis that swallows packets costs one request a connect timeout, not every request.
    if (this.attempt !== undefined && this.failures > 0) {
      return Promise.reject(new StoreUnavailableError('redis is unavailable (reconnecting)'));
    }
    return this.connectNow();
  }

  /** Wraps a failure in StoreUnavailableError. The message names the operation only, never a value. */
  failure(operation: string, err: unknown): StoreUnavailableError {
    if (err instanceof StoreUnavailableError) return err;
    // A socket error code (ECONNREFUSED) or the first word of a Redis error reply (NOPERM, OOM,
    // LOADING, WRONGPASS): enough to act on, and never part of a key or value.
    const code = (err as { code?: unknown }).code;
    const replyCode = err instanceof Error ? /^[A-Z]{3,}(?= )/.exec(err.message)?.[0] : undefined;
    const found = typeof code === 'string' ? code : replyCode;
    const reason = found ? ` (${found})` : '';
    return new StoreUnavailableError(`redis ${operation} failed${reason}`, { cause: err });
  }

  /**
   * Runs `hook` after every successful connect, before the attempt resolves: the first command after
   * a reconnect waits for it (the generation check must see an emptied Redis before a review does).
   * A failing hook does not fail the connection.
   */
  onConnected(hook: () => Promise<void>): void {
    this.afterConnect.push(hook);
  }

  /**
   * Calls `listener` when a (re)connection lands on another primary than the last one: a Sentinel
   * failover (`+switch-master`, or the old primary died). Not for Cluster, whose client talks to
   * every master at once.
   */
  onPrimaryChange(listener: () => void): void {
    this.primaryChanged.push(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.retryTimer);
    if (this.client.status === 'ready') {
      await this.client.quit().catch(() => undefined);
    }
    this.client.disconnect();
  }

  private connectNow(): Promise<void> {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.attempt ??= this.boundedConnect().finally(() => {
      this.attempt = undefined;
    });
    return this.attempt;
  }

  /**
   * ioredis' connectTimeout covers the TCP (and TLS) connect only: a server that accepts and then
   * never answers the handshake would hold the attempt forever. The whole attempt gets a deadline.
   */
  private boundedConnect(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const deadline = setTimeout(() => {
        reject(new StoreUnavailableError('redis connect timed out'));
        this.client.disconnect();
      }, this.attemptTimeoutMs);
      deadline.unref();
      connectClient(this.client)
        .then(() => this.settle())
        .then(
          () => {
            clearTimeout(deadline);
            resolve();
          },
          (err: unknown) => {
            clearTimeout(deadline);
            // ioredis rejects with a bare "Connection is closed"; the error event before it says why.
            reject(this.failure('connect', this.lastError ?? err));
          },
        );
    });
  }

  /** After a connect: note which primary it reached, then run the hooks. */
  private async settle(): Promise<void> {
    const stream = (this.client as { stream?: { remoteAddress?: string; remotePort?: number } }).stream;
    const address = stream?.remoteAddress && `${stream.remoteAddress}:${stream.remotePort}`;
    const previous = this.primaryAddress;
    if (address) this.primaryAddress = address;
    if (address && previous !== undefined && previous !== address) {
      this.logger?.warn({ from: previous, to: address }, 'redis primary changed (failover)');
      for (const listener of this.primaryChanged) listener();
    }
    for (const hook of this.afterConnect) await hook().catch(() => undefined);
  }

  private onReady(): void {
    if (this.failures > 0) this.logger?.info('redis connection ready again');
    this.failures = 0;
    this.lastError = undefined;
  }

  private onError(err: Error): void {
    this.lastError = err;
    // Only the first failure of an outage is worth a line; the rest repeat it every backoff step.
    if (this.failures === 0) {
      this.logger?.warn({ err: { message: redactCredentials(err.message) } }, 'redis connection failed');
    }
  }

  private onEnd(): void {
    if (this.closed) return;
    this.failures += 1;
    if (this.failures === 1) this.logger?.warn('redis connection lost; reconnecting in the background');
    const delay = Math.min(FIRST_RECONNECT_DELAY_MS * 2 ** (this.failures - 1), this.maxReconnectDelayMs);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.connectNow().catch(() => undefined);
    }, delay);
    this.retryTimer.unref();
  }
}
