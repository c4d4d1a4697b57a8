import { performance } from 'node:perf_hooks';
import type { RedisConfig } from '../config/index.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { EXPIRED_ACCESS_TOKEN_RETENTION } from './expired-retention.js';
import { hitWindow } from './hit-window.js';
import { decodeRecord, decodeRetainedRecord } from './record-codec.js';
import { encodeAccessToken, encodeRefreshToken, readAccessToken, readRefreshToken } from './record-layout.js';
import { execAll } from './redis-client.js';
import { RedisConnection } from './redis-connection.js';
import { RedisKeys } from './redis-keys.js';
import { defineStoreScripts } from './redis-scripts.js';
import { RedisSessions } from './redis-sessions.js';
import { ReplicaAck } from './replica-ack.js';
import { RevocationJournal } from './revocation-journal.js';
import { replayRevocations } from './revocation-replay.js';
import { StoreGeneration } from './store-generation.js';
import type { StoreDataLoss, StoreResilience } from './store-resilience.js';
import type { AccessTokenRecord, EphemeralNamespace, RefreshUse, TokenStore } from './types.js';

export interface RedisStoreOptions {
  config: RedisConfig;
  clock: Clock;
  logger?: Logger;
  /**
   * How long revocations stay in the journal: the longest token lifetime (older revocations protect
   * nothing, their tokens expired). Default one day, the default session lifetime.
   */
  revocationJournalTTL?: number;
  /** Called once per data loss noticed (the generation marker vanished). */
  onDataLoss?: (loss: StoreDataLoss) => void;
}

const DEFAULT_JOURNAL_TTL_SECONDS = 86_400;
const DEFAULT_REPLICA_ACK_TIMEOUT_MS = 1000;
/** Revocations replayed after a Sentinel failover: replication lag is seconds, this is generous. */
const AUTO_REPLAY_WINDOW_SECONDS = 900;
/** Re-checks of the generation markers asked for by a lookup that found nothing: at most this often. */
const GENERATION_RECHECK_INTERVAL_MS = 100;
/** How often every process re-checks the generation marker (also after every reconnect). */
const GENERATION_CHECK_INTERVAL_MS = 2000;

interface EphemeralEnvelope {
  expiresAt: number;
  value: unknown;
}

/**
 * The production TokenStore on Redis: standalone (`redis://` or `rediss://`), Sentinel or Cluster,
 * with an optional ACL user/password. Every transaction, multi-key command and script touches keys of
 * one hash tag only, so each runs in one Cluster slot; steps that span slots send one command per slot.
 * Key layout and TTL rules: redis-keys.ts and docs/store.md. Every key is written with a TTL derived
 * from the record's `expiresAt` and the injected clock; index keys live as long as their
 * longest-lived member. Reads re-check `expiresAt` against the clock.
 *
 * Failures (Redis away, timeouts, corrupt records) throw StoreUnavailableError; see
 * RedisConnection for the fail-fast and self-healing behaviour.
 */
export function createRedisStore(options: RedisStoreOptions): TokenStore & StoreResilience {
  const { clock, config, logger } = options;
  const keys = new RedisKeys(config.keyPrefix);
  const connection = new RedisConnection(config, logger);
  const redis = connection.client;
  defineStoreScripts(redis);
  const journal = new RevocationJournal(
    redis,
    keys.revocationJournal(),
    clock,
    options.revocationJournalTTL ?? DEFAULT_JOURNAL_TTL_SECONDS,
  );
  const topology = config.cluster ? 'cluster' : config.sentinel ? 'sentinel' : 'standalone';
  // WAIT must return before the command timeout cuts it.
  const ackTimeoutMs = Math.min(
    config.replicaAckTimeoutMs ?? DEFAULT_REPLICA_ACK_TIMEOUT_MS,
    Math.max(0, config.commandTimeout * 1000 - 250),
  );
  const replicaAck = new ReplicaAck(redis, topology, keys, ackTimeoutMs);
  const sessions = new RedisSessions(redis, keys, clock);
  const revoke = (id: string) => sessions.revoke(id);
  const generation = new StoreGeneration({ redis, keys, clock, logger, onDataLoss: options.onDataLoss });
  connection.onConnected(() => generation.check());
  // Before a token the store does not know is called unknown: markers checked at most this often
  // (a flood of unknown tokens costs ≤ 10 checks a second; overlapping askers share one check).
  let lastRecheckAt = Number.NEGATIVE_INFINITY;
  async function recheckGeneration(): Promise<void> {
    if (performance.now() - lastRecheckAt < GENERATION_RECHECK_INTERVAL_MS) return;
    await generation.check();
    lastRecheckAt = performance.now();
  }
  const generationTimer = setInterval(() => {
    if (redis.status === 'ready') generation.check().catch(() => undefined);
  }, GENERATION_CHECK_INTERVAL_MS);
  generationTimer.unref();
  connection.onPrimaryChange(() => {
    // A promoted replica may lack the latest revocations: apply them again, before much traffic.
    replayRevocations(journal, clock.now() - AUTO_REPLAY_WINDOW_SECONDS, revoke).then(
      (result) => logger?.warn({ ...result }, 'revocations replayed after a failover'),
      (err: unknown) =>
        logger?.error(
          { err: { message: (err as Error).message } },
          'revocation replay after a failover failed',
        ),
    );
  });

  async function run<T>(operation: string, body: () => Promise<T>): Promise<T> {
    try {
      const waiting = connection.ready();
      if (waiting) await waiting;
      return await body();
    } catch (err) {
      throw connection.failure(operation, err);
    }
  }

  return {
    kind: 'redis',

    putSession(session) {
      return run('putSession', () => sessions.put(session));
    },

    getSession(id) {
      return run('getSession', () => sessions.get(id));
    },

    listSessions(filter) {
      return run('listSessions', async () => {
        const all = await sessions.list();
        if (filter?.username === undefined) return all;
        return all.filter((s) => s.username === filter.username);
      });
    },

    countSessions() {
      return run('countSessions', () => sessions.count());
    },

    revokeSession(id) {
      return run('revokeSession', async () => {
        await journal.append(id, undefined);
        const revoked = await revoke(id);
        await replicaAck.confirm();
        return revoked;
      });
    },

    revokeUser(username) {
      return run('revokeUser', async () => {
        const mine = (await sessions.list()).filter((s) => s.username === username);
        const revoked = await Promise.all(
          mine.map(async (s) => {
            await journal.append(s.id, username);
            return revoke(s.id);
          }),
        );
        await replicaAck.confirm();
        return revoked.filter(Boolean).length;
      });
    },

    putAccessToken(hash, record) {
      return run('putAccessToken', () => {
        if (record.expiresAt <= clock.now()) return Promise.resolve();
        // Kept past its expiry for a while, so the token service can answer `expired` (expired-retention.ts).
        const keepUntil = record.expiresAt + EXPIRED_ACCESS_TOKEN_RETENTION;
        return sessions.putToken(record.sessionId, `a:${hash}`, encodeAccessToken(record), keepUntil);
      });
    },

    // The review hot path: exactly one GET.
    getAccessToken(hash) {
      return run('getAccessToken', async () =>
        decodeRetainedRecord<AccessTokenRecord>(
          await redis.get(keys.accessToken(hash)),
          clock.now(),
          EXPIRED_ACCESS_TOKEN_RETENTION,
          'access token',
          readAccessToken,
        ),
      );
    },

    deleteAccessToken(hash) {
      return run('deleteAccessToken', async () => (await redis.del(keys.accessToken(hash))) > 0);
    },

    putRefreshToken(hash, record) {
      return run('putRefreshToken', () =>
        sessions.putToken(record.sessionId, `r:${hash}`, encodeRefreshToken(record), record.expiresAt),
      );
    },

    useRefreshToken(hash): Promise<RefreshUse> {
      return run('useRefreshToken', async () => {
        const now = clock.now();
        const reply = await redis.kobUseRefresh(keys.refreshToken(hash), keys.refreshTokenUse(hash), now);
        if (reply === null) return { status: 'unknown' };
        const record = decodeRecord(reply[0], now, 'refresh token', readRefreshToken);
        if (record === undefined) return { status: 'unknown' };
        if (reply[1] === undefined) return { status: 'fresh', record };
        return { status: 'reused', record, firstUsedAt: Number(reply[1]) };
      });
    },

    deleteRefreshToken(hash) {
      return run('deleteRefreshToken', async () => {
        const [deleted] = await execAll(
          redis.pipeline().del(keys.refreshToken(hash)).del(keys.refreshTokenUse(hash)),
        );
        return (deleted as number) > 0;
      });
    },

    putEphemeral(ns, id, value, ttl) {
      return run('putEphemeral', async () => {
        if (ttl <= 0) return;
        const envelope: EphemeralEnvelope = { expiresAt: clock.now() + ttl, value: value ?? null };
        await redis.set(keys.ephemeral(ns, id), JSON.stringify(envelope), 'EX', ttl);
      });
    },

    getEphemeral<T>(ns: EphemeralNamespace, id: string) {
      return run('getEphemeral', async () => {
        const raw = await redis.get(keys.ephemeral(ns, id));
        return decodeRecord<EphemeralEnvelope>(raw, clock.now(), 'ephemeral')?.value as T | undefined;
      });
    },

    updateEphemeral(ns, id, value) {
      return run('updateEphemeral', async () => {
        const key = keys.ephemeral(ns, id);
        return (await redis.kobUpdateEphemeral(key, JSON.stringify(value ?? null), clock.now())) === 1;
      });
    },

    takeEphemeral<T>(ns: EphemeralNamespace, id: string) {
      return run('takeEphemeral', async () => {
        const raw = await redis.getdel(keys.ephemeral(ns, id));
        return decodeRecord<EphemeralEnvelope>(raw, clock.now(), 'ephemeral')?.value as T | undefined;
      });
    },

    peekRefreshToken(hash): Promise<RefreshUse> {
      return run('peekRefreshToken', async () => {
        const now = clock.now();
        // The token and its :used marker share a hash tag: one slot, one MGET.
        const [raw, usedAt] = await redis.mget(keys.refreshToken(hash), keys.refreshTokenUse(hash));
        const record = decodeRecord(raw, now, 'refresh token', readRefreshToken);
        if (record === undefined) return { status: 'unknown' };
        if (usedAt === null || usedAt === undefined) return { status: 'fresh', record };
        return { status: 'reused', record, firstUsedAt: Number(usedAt) };
      });
    },

    putEphemeralIfAbsent(ns, id, value, ttl) {
      return run('putEphemeralIfAbsent', async () => {
        if (ttl <= 0) return false;
        const now = clock.now();
        const envelope: EphemeralEnvelope = { expiresAt: now + ttl, value: value ?? null };
        const key = keys.ephemeral(ns, id);
        return (await redis.kobPutEphemeralIfAbsent(key, JSON.stringify(envelope), ttl, now)) === 1;
      });
    },

    swapEphemeral(ns, id, expected, next) {
      return run('swapEphemeral', async () => {
        const key = keys.ephemeral(ns, id);
        const swapped = await redis.kobSwapEphemeral(
          key,
          JSON.stringify(expected ?? null),
          JSON.stringify(next ?? null),
          clock.now(),
        );
        return swapped === 1;
      });
    },

    hit(key, windowSeconds) {
      return run('hit', async () => {
        const now = clock.now();
        const window = hitWindow(now, windowSeconds);
        const counter = keys.counter(key, window.index);
        const [count] = await execAll(
          redis
            .multi()
            .incr(counter)
            .expire(counter, window.endsAt - now),
        );
        return count as number;
      });
    },

    ping() {
      return run('ping', async () => {
        await redis.ping();
      });
    },

    dataLoss() {
      return generation.lastLoss();
    },

    confirmIntact() {
      return run('confirmIntact', async () => {
        await recheckGeneration();
        return generation.lastLoss();
      });
    },

    replayRevocations(since) {
      return run('replayRevocations', async () => {
        const result = await replayRevocations(journal, since, revoke);
        await replicaAck.confirm();
        return result;
      });
    },

    close() {
      clearInterval(generationTimer);
      replicaAck.close();
      return connection.close();
    },
  };
}
