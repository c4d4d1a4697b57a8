import type { ChainableCommander } from 'ioredis';
import type { RedisConfig } from '../config/index.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { EXPIRED_ACCESS_TOKEN_RETENTION } from './expired-retention.js';
import { hitWindow } from './hit-window.js';
import { decodeRecord, decodeRetainedRecord } from './record-codec.js';
import {
  encodeAccessToken,
  encodeRefreshToken,
  encodeSession,
  readAccessToken,
  readRefreshToken,
  readSession,
} from './record-layout.js';
import { RedisConnection } from './redis-connection.js';
import { RedisKeys } from './redis-keys.js';
import { defineStoreScripts } from './redis-scripts.js';
import { ReplicaAck } from './replica-ack.js';
import { RevocationJournal } from './revocation-journal.js';
import { replayRevocations } from './revocation-replay.js';
import { StoreGeneration } from './store-generation.js';
import type { StoreDataLoss, StoreResilience } from './store-resilience.js';
import type {
  AccessTokenRecord,
  EphemeralNamespace,
  RefreshTokenRecord,
  RefreshUse,
  SessionRecord,
  TokenStore,
} from './types.js';

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
/** How often every process re-checks the generation marker (also after every reconnect). */
const GENERATION_CHECK_INTERVAL_MS = 2000;

interface EphemeralEnvelope {
  expiresAt: number;
  value: unknown;
}

/**
 * Runs a pipeline or transaction and returns its replies, throwing the first command error. Only for
 * batches within one hash tag: a Cluster client refuses a pipeline that spans nodes.
 */
async function execAll(batch: ChainableCommander): Promise<unknown[]> {
  const results = await batch.exec();
  if (results === null) throw new Error('transaction aborted');
  return results.map(([err, reply]) => {
    if (err) throw err;
    return reply;
  });
}

/** Best-effort read of a session record being deleted: only to find its index entries. */
function peekSession(raw: string | null, id: string): SessionRecord | undefined {
  if (raw === null) return undefined;
  try {
    return readSession(JSON.parse(raw), id);
  } catch {
    return undefined;
  }
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
  const generation = new StoreGeneration({ redis, keys, clock, logger, onDataLoss: options.onDataLoss });
  connection.onConnected(() => generation.check());
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

  /**
   * Writes a token, then indexes it under its session and checks the session still exists. If a
   * revocation runs concurrently, it either saw the index entry (and deletes the token, which was
   * written before) or the session is gone by the check and the token is deleted here: a revoked
   * session never regains a live token. The token's key has its own hash tag (a review reads it by
   * hash alone), so on Cluster it lives in another slot than the session: two round trips, in order.
   */
  async function putToken(sessionId: string, member: string, key: string, value: string, expiresAt: number) {
    const now = clock.now();
    const ttl = expiresAt - now;
    if (ttl <= 0) return;
    await redis.set(key, value, 'EX', ttl);
    const [, exists] = await execAll(
      redis
        .pipeline()
        .kobIndexAdd(keys.sessionTokens(sessionId), member, expiresAt, now)
        .exists(keys.session(sessionId)),
    );
    if (exists === 0) await redis.del(key);
  }

  function decodeSession(raw: string | null, id: string, now: number): SessionRecord | undefined {
    return decodeRecord(raw, now, 'session', (value) => readSession(value, id));
  }

  async function revoke(id: string): Promise<boolean> {
    // The session and its token index share the hash tag {ID}: one slot, so one transaction.
    const [raw, , members] = (await execAll(
      redis
        .multi()
        .get(keys.session(id))
        .del(keys.session(id))
        .zrange(keys.sessionTokens(id), '0', '-1')
        .del(keys.sessionTokens(id)),
    )) as [string | null, number, string[], number];
    // Each token and each index is in a slot of its own: separate commands, sent concurrently (a
    // cluster client routes each to its node; on one node they share the connection's round trip).
    const cleanup: Promise<number>[] = members.map((member) => redis.del(...keys.tokenMember(member)));
    cleanup.push(redis.zrem(keys.allSessions(), id));
    // Even an expired or unreadable session record loses its tokens and index entries.
    const session = peekSession(raw, id);
    if (typeof session?.username === 'string')
      cleanup.push(redis.zrem(keys.userSessions(session.username), id));
    await Promise.all(cleanup);
    return raw !== null && (typeof session?.expiresAt !== 'number' || session.expiresAt > clock.now());
  }

  async function readSessions(index: string): Promise<SessionRecord[]> {
    const now = clock.now();
    const ids = await redis.zrangebyscore(index, `(${now}`, '+inf');
    // One GET per session (each session is its own slot), all in flight at once.
    const raws = await Promise.all(ids.map((id) => redis.get(keys.session(id))));
    return raws
      .map((raw, i) => decodeSession(raw, ids[i] as string, now))
      .filter((s): s is SessionRecord => s !== undefined)
      .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }

  return {
    kind: 'redis',

    putSession(session) {
      return run('putSession', async () => {
        const now = clock.now();
        const ttl = session.expiresAt - now;
        if (ttl <= 0) return;
        // Three slots (the session, the user's index, the list of all sessions): three commands.
        await Promise.all([
          redis.set(keys.session(session.id), encodeSession(session), 'EX', ttl),
          redis.kobIndexAdd(keys.userSessions(session.username), session.id, session.expiresAt, now),
          redis.kobIndexAdd(keys.allSessions(), session.id, session.expiresAt, now),
        ]);
      });
    },

    getSession(id) {
      return run('getSession', async () => decodeSession(await redis.get(keys.session(id)), id, clock.now()));
    },

    listSessions(filter) {
      return run('listSessions', async () => {
        if (filter?.username === undefined) return readSessions(keys.allSessions());
        const sessions = await readSessions(keys.userSessions(filter.username));
        return sessions.filter((s) => s.username === filter.username);
      });
    },

    countSessions() {
      return run('countSessions', () => redis.zcount(keys.allSessions(), `(${clock.now()}`, '+inf'));
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
        // The index may still list a session whose username changed since (updated claims).
        const sessions = await readSessions(keys.userSessions(username));
        const mine = sessions.filter((s) => s.username === username);
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
        const key = keys.accessToken(hash);
        if (record.expiresAt <= clock.now()) return Promise.resolve();
        // Kept past its expiry for a while, so the token service can answer `expired` (expired-retention.ts).
        const keepUntil = record.expiresAt + EXPIRED_ACCESS_TOKEN_RETENTION;
        return putToken(record.sessionId, `a:${hash}`, key, encodeAccessToken(record), keepUntil);
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
      return run('putRefreshToken', () => {
        const key = keys.refreshToken(hash);
        return putToken(record.sessionId, `r:${hash}`, key, encodeRefreshToken(record), record.expiresAt);
      });
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
