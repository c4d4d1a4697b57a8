import type { Clock } from '../core/clock.js';
import { StoreUnavailableError } from '../core/errors.js';
import { EXPIRED_ACCESS_TOKEN_RETENTION } from './expired-retention.js';
import { hitWindow } from './hit-window.js';
import type {
  AccessTokenRecord,
  EphemeralNamespace,
  RefreshTokenRecord,
  RefreshUse,
  SessionRecord,
  TokenStore,
} from './types.js';

/** How often expired entries are swept, besides being dropped when read. */
const SWEEP_INTERVAL_MS = 60_000;

interface Expiring {
  expiresAt: number;
}

interface RefreshEntry extends Expiring {
  record: RefreshTokenRecord;
  firstUsedAt?: number;
}

interface ValueEntry extends Expiring {
  value: unknown;
}

/** An access token; `expiresAt` here is when the entry goes (the record's own expiry + retention). */
interface AccessEntry extends Expiring {
  record: AccessTokenRecord;
}

interface CountEntry extends Expiring {
  count: number;
}

/** Records compare as the Redis store compares them: by their JSON text. */
function sameRecord(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

export interface MemoryStoreOptions {
  clock: Clock;
  /**
   * Most ephemeral records (login states, codes, device requests, locks) held at once; past it the
   * oldest are evicted. Default 10,000. Rate-limit counters are capped at twice this. Sessions and
   * tokens are never evicted: only a signed-in person creates them.
   */
  maxEphemeralRecords?: number;
}

/** Default cap of the memory store's ephemeral records (see MemoryStoreOptions). */
export const DEFAULT_MAX_EPHEMERAL_RECORDS = 10_000;

/** Makes room for one more entry: drops the oldest (a Map iterates in insertion order). */
function evictOldest(map: Map<string, unknown>, max: number): void {
  while (map.size >= max) {
    const oldest = map.keys().next();
    if (oldest.done) return;
    map.delete(oldest.value);
  }
}

/**
 * The reference TokenStore: one process, nothing persisted. Used by `demo` and single-replica setups,
 * and the yardstick the Redis store is tested against (same contract suite).
 *
 * Records are copied in and out (`structuredClone`), so callers cannot mutate what is stored — the
 * same behaviour as a store that serialises. Expiry follows the injected clock: an entry is gone once
 * `expiresAt <= clock.now()`, whether or not the sweep has run.
 */
export function createMemoryStore(options: MemoryStoreOptions): TokenStore {
  const { clock } = options;
  const maxEphemeral = options.maxEphemeralRecords ?? DEFAULT_MAX_EPHEMERAL_RECORDS;
  /** Ephemeral records are evicted oldest first when full: a flood cannot grow the process. */
  const putBounded = (key: string, entry: ValueEntry) => {
    if (!ephemeral.has(key)) evictOldest(ephemeral, maxEphemeral);
    ephemeral.set(key, entry);
  };
  const sessions = new Map<string, SessionRecord>();
  const accessTokens = new Map<string, AccessEntry>();
  const refreshTokens = new Map<string, RefreshEntry>();
  /** Session id → hashes of the tokens issued for it (`a:` access, `r:` refresh). */
  const sessionTokens = new Map<string, Set<string>>();
  const ephemeral = new Map<string, ValueEntry>();
  const counters = new Map<string, CountEntry>();
  let closed = false;

  function live<T extends Expiring>(map: Map<string, T>, key: string): T | undefined {
    const entry = map.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= clock.now()) {
      map.delete(key);
      return undefined;
    }
    return entry;
  }

  function liveSession(id: string): SessionRecord | undefined {
    const session = live(sessions, id);
    if (session === undefined) sessionTokens.delete(id);
    return session;
  }

  function sweep(): void {
    const now = clock.now();
    for (const map of [sessions, accessTokens, refreshTokens, ephemeral, counters] as Map<
      string,
      Expiring
    >[]) {
      for (const [key, entry] of map) if (entry.expiresAt <= now) map.delete(key);
    }
    for (const id of sessionTokens.keys()) if (!sessions.has(id)) sessionTokens.delete(id);
  }

  const timer = setInterval(sweep, SWEEP_INTERVAL_MS);
  timer.unref();

  function assertOpen(): void {
    if (closed) throw new StoreUnavailableError('memory store is closed');
  }

  /** A token is only kept while its session lives: a revoked session never regains a token. */
  function indexToken(sessionId: string, member: string): boolean {
    if (liveSession(sessionId) === undefined) return false;
    let members = sessionTokens.get(sessionId);
    if (members === undefined) {
      members = new Set();
      sessionTokens.set(sessionId, members);
    }
    members.add(member);
    return true;
  }

  function revoke(id: string): boolean {
    const existed = liveSession(id) !== undefined;
    sessions.delete(id);
    for (const member of sessionTokens.get(id) ?? []) {
      const hash = member.slice(2);
      if (member.startsWith('a:')) accessTokens.delete(hash);
      else refreshTokens.delete(hash);
    }
    sessionTokens.delete(id);
    return existed;
  }

  const ephemeralKey = (ns: EphemeralNamespace, id: string) => `${ns}:${id}`;

  return {
    kind: 'memory',

    async putSession(session) {
      assertOpen();
      if (session.expiresAt <= clock.now()) return;
      sessions.set(session.id, structuredClone(session));
    },

    async getSession(id) {
      assertOpen();
      const session = liveSession(id);
      return session && structuredClone(session);
    },

    async listSessions(filter) {
      assertOpen();
      const found: SessionRecord[] = [];
      for (const id of [...sessions.keys()]) {
        const session = liveSession(id);
        if (session && (filter?.username === undefined || session.username === filter.username)) {
          found.push(structuredClone(session));
        }
      }
      return found.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
    },

    async countSessions() {
      assertOpen();
      return [...sessions.keys()].filter((id) => liveSession(id) !== undefined).length;
    },

    async revokeSession(id) {
      assertOpen();
      return revoke(id);
    },

    async revokeUser(username) {
      assertOpen();
      let count = 0;
      for (const [id, session] of [...sessions]) {
        if (session.username === username && revoke(id)) count += 1;
      }
      return count;
    },

    async putAccessToken(hash, record) {
      assertOpen();
      if (record.expiresAt <= clock.now() || !indexToken(record.sessionId, `a:${hash}`)) return;
      const keepUntil = record.expiresAt + EXPIRED_ACCESS_TOKEN_RETENTION;
      accessTokens.set(hash, { record: structuredClone(record), expiresAt: keepUntil });
    },

    async getAccessToken(hash) {
      assertOpen();
      // Returned past its expiresAt too (within the retention): the token service decides expiry.
      const entry = live(accessTokens, hash);
      return entry && structuredClone(entry.record);
    },

    async deleteAccessToken(hash) {
      assertOpen();
      return live(accessTokens, hash) !== undefined && accessTokens.delete(hash);
    },

    async putRefreshToken(hash, record) {
      assertOpen();
      if (record.expiresAt <= clock.now() || !indexToken(record.sessionId, `r:${hash}`)) return;
      refreshTokens.set(hash, { record: structuredClone(record), expiresAt: record.expiresAt });
    },

    async useRefreshToken(hash): Promise<RefreshUse> {
      assertOpen();
      const entry = live(refreshTokens, hash);
      if (entry === undefined) return { status: 'unknown' };
      const record = structuredClone(entry.record);
      if (entry.firstUsedAt === undefined) {
        entry.firstUsedAt = clock.now();
        return { status: 'fresh', record };
      }
      return { status: 'reused', record, firstUsedAt: entry.firstUsedAt };
    },

    async deleteRefreshToken(hash) {
      assertOpen();
      return live(refreshTokens, hash) !== undefined && refreshTokens.delete(hash);
    },

    async putEphemeral(ns, id, value, ttlSeconds) {
      assertOpen();
      if (ttlSeconds <= 0) return;
      putBounded(ephemeralKey(ns, id), {
        value: structuredClone(value),
        expiresAt: clock.now() + ttlSeconds,
      });
    },

    async getEphemeral<T>(ns: EphemeralNamespace, id: string) {
      assertOpen();
      const entry = live(ephemeral, ephemeralKey(ns, id));
      return entry && (structuredClone(entry.value) as T);
    },

    async updateEphemeral(ns, id, value) {
      assertOpen();
      const entry = live(ephemeral, ephemeralKey(ns, id));
      if (entry === undefined) return false;
      entry.value = structuredClone(value);
      return true;
    },

    async takeEphemeral<T>(ns: EphemeralNamespace, id: string) {
      assertOpen();
      const key = ephemeralKey(ns, id);
      const entry = live(ephemeral, key);
      ephemeral.delete(key);
      return entry && (entry.value as T);
    },

    async peekRefreshToken(hash): Promise<RefreshUse> {
      assertOpen();
      const entry = live(refreshTokens, hash);
      if (entry === undefined) return { status: 'unknown' };
      const record = structuredClone(entry.record);
      if (entry.firstUsedAt === undefined) return { status: 'fresh', record };
      return { status: 'reused', record, firstUsedAt: entry.firstUsedAt };
    },

    async putEphemeralIfAbsent(ns, id, value, ttlSeconds) {
      assertOpen();
      if (ttlSeconds <= 0 || live(ephemeral, ephemeralKey(ns, id)) !== undefined) return false;
      putBounded(ephemeralKey(ns, id), {
        value: structuredClone(value),
        expiresAt: clock.now() + ttlSeconds,
      });
      return true;
    },

    async swapEphemeral(ns, id, expected, next) {
      assertOpen();
      const entry = live(ephemeral, ephemeralKey(ns, id));
      if (entry === undefined || !sameRecord(entry.value, expected)) return false;
      entry.value = structuredClone(next);
      return true;
    },

    async hit(key, windowSeconds) {
      assertOpen();
      const window = hitWindow(clock.now(), windowSeconds);
      const counterKey = `${key}:${window.index}`;
      let entry = live(counters, counterKey);
      if (entry === undefined) {
        evictOldest(counters, maxEphemeral * 2);
        entry = { count: 0, expiresAt: window.endsAt };
        counters.set(counterKey, entry);
      }
      entry.count += 1;
      return entry.count;
    },

    async ping() {
      assertOpen();
    },

    async close() {
      closed = true;
      clearInterval(timer);
    },
  };
}
