import type { Clock } from '../core/clock.js';
import { decodeRecord } from './record-codec.js';
import { encodeSession, readSession } from './record-layout.js';
import { execAll, type RedisClient } from './redis-client.js';
import type { RedisKeys } from './redis-keys.js';
import type { SessionRecord } from './types.js';

/**
 * The value of `session:{ID}`: the session record (record-layout.ts), then one line per live token
 * issued for it, `a:HASH EXPIRES` or `r:HASH EXPIRES` (the token's key, its expiry in epoch seconds),
 * written by the kobSessionPut and kobSessionTokenAdd scripts. The session's token index rides in
 * its own value instead of a key of its own: a Redis key costs about 130 bytes before it holds
 * anything. JSON text never holds a raw newline, so the first newline ends the record.
 */
function splitSessionValue(raw: string): { record: string; tokens: string[] } {
  const end = raw.indexOf('\n');
  if (end < 0) return { record: raw, tokens: [] };
  const tokens = raw
    .slice(end + 1)
    .split('\n')
    .map((line) => line.split(' ', 1)[0] ?? '')
    .filter((member) => member !== '');
  return { record: raw.slice(0, end), tokens };
}

/** Best-effort read of a session record being deleted: only its end matters (was it still live?). */
function peekExpiry(record: string, id: string): number | undefined {
  try {
    return readSession(JSON.parse(record), id)?.expiresAt;
  } catch {
    return undefined;
  }
}

/**
 * Sessions on Redis: `session:{ID}` (the record and the list of its tokens) and `sessions`, the index
 * of every session id (score = its end) that listing and counting read. There is no index per user:
 * a zset per user cost ~185 bytes of Redis per user, and only the admin commands look a user up;
 * they find the user's sessions among all of them, by the record's username. Errors propagate: the
 * store wraps them.
 */
export class RedisSessions {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly clock: Clock,
  ) {}

  /** Creates or replaces a session record; the tokens already listed under it stay listed. */
  async put(session: SessionRecord): Promise<void> {
    const now = this.clock.now();
    const ttl = session.expiresAt - now;
    if (ttl <= 0) return;
    // Two slots (the session, the list of all sessions): two commands.
    await Promise.all([
      this.redis.kobSessionPut(this.keys.session(session.id), encodeSession(session), ttl),
      this.redis.kobIndexAdd(this.keys.allSessions(), session.id, session.expiresAt, now),
    ]);
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    return this.decode(await this.redis.get(this.keys.session(id)), id, this.clock.now());
  }

  /** Every live session, oldest first: the index, then one GET per session, all in flight at once. */
  async list(): Promise<SessionRecord[]> {
    const now = this.clock.now();
    const ids = await this.redis.zrangebyscore(this.keys.allSessions(), `(${now}`, '+inf');
    const raws = await Promise.all(ids.map((id) => this.redis.get(this.keys.session(id))));
    return raws
      .map((raw, i) => this.decode(raw, ids[i] as string, now))
      .filter((s): s is SessionRecord => s !== undefined)
      .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }

  count(): Promise<number> {
    return this.redis.zcount(this.keys.allSessions(), `(${this.clock.now()}`, '+inf');
  }

  /**
   * Writes a token, then lists it under its session, in the session's value, if the session still
   * exists (one script). If a revocation runs concurrently, it either took the session with the
   * token listed (and deletes the token, which was written before) or the session is gone by the
   * script and the token is deleted here: a revoked session never regains a live token. The token's
   * key has its own hash tag (a review reads it by hash alone), so on Cluster it lives in another
   * slot than the session: two round trips, in order. `member` is `a:HASH` or `r:HASH`.
   */
  async putToken(sessionId: string, member: string, value: string, expiresAt: number): Promise<void> {
    const now = this.clock.now();
    const ttl = expiresAt - now;
    if (ttl <= 0) return;
    const [key] = this.keys.tokenMember(member) as [string];
    await this.redis.set(key, value, 'EX', ttl);
    const listed = await this.redis.kobSessionTokenAdd(this.keys.session(sessionId), member, expiresAt, now);
    if (listed === 0) await this.redis.del(key);
  }

  /** Deletes a session, every token listed under it and its index entry. False when it was not live. */
  async revoke(id: string): Promise<boolean> {
    // The session and the token index earlier releases kept beside it share the hash tag {ID}: one
    // slot, so one transaction.
    const [raw, legacyTokens] = (await execAll(
      this.redis
        .multi()
        .getdel(this.keys.session(id))
        .zrange(this.keys.legacySessionTokens(id), '0', '-1')
        .del(this.keys.legacySessionTokens(id)),
    )) as [string | null, string[], number];
    const value = raw === null ? undefined : splitSessionValue(raw);
    // Each token is in a slot of its own: separate commands, sent concurrently (a cluster client
    // routes each to its node; on one node they share the connection's round trip). Even an expired
    // or unreadable session record loses its tokens and its index entry.
    const members = [...(value?.tokens ?? []), ...legacyTokens];
    await Promise.all([
      ...members.map((member) => this.redis.del(...this.keys.tokenMember(member))),
      this.redis.zrem(this.keys.allSessions(), id),
    ]);
    if (value === undefined) return false;
    const expiresAt = peekExpiry(value.record, id);
    return expiresAt === undefined || expiresAt > this.clock.now();
  }

  private decode(raw: string | null, id: string, now: number): SessionRecord | undefined {
    if (raw === null) return undefined;
    const { record } = splitSessionValue(raw);
    return decodeRecord(record, now, 'session', (value) => readSession(value, id));
  }
}
