import type { Clock } from '../core/clock.js';
import type { RedisClient } from './redis-client.js';

/** One revocation: which session, whose, when (epoch seconds of the injected clock). */
export interface RevocationEntry {
  sessionId: string;
  username?: string;
  at: number;
}

/** Revocations a process keeps in memory for its own replay after a failover (newest win). */
const LOCAL_CAPACITY = 10_000;
/** Stream ids use Redis' clock, entries ours: read a little earlier than asked, then filter on `at`. */
const CLOCK_SLACK_SECONDS = 60;
const PAGE = 1000;

/**
 * The revocation journal: an append-only Redis stream (`P revocations`) of every session revocation,
 * trimmed to the longest token lifetime (older revocations protect nothing: their tokens expired)
 * and with that TTL on the key itself. A revocation is journaled *before* its deletes, so a replica
 * that has any of the deletes has the entry too; on Cluster the journal lives in one shard, so a
 * session shard that fails over with lag still finds its revocations there.
 *
 * The process also remembers its own recent revocations, because on Sentinel the journal shares the
 * primary's fate: a replica promoted before it received them has neither the deletes nor the entries.
 * @see docs/store.md "Revocations and failover"
 */
export class RevocationJournal {
  private readonly recent = new Map<string, RevocationEntry>();

  constructor(
    private readonly redis: RedisClient,
    private readonly key: string,
    private readonly clock: Clock,
    private readonly ttlSeconds: number,
  ) {}

  /** Appends an entry (and remembers it locally). */
  async append(sessionId: string, username: string | undefined): Promise<RevocationEntry> {
    const entry: RevocationEntry = { sessionId, username, at: this.clock.now() };
    this.remember(entry);
    await this.write(entry);
    return entry;
  }

  /** Writes an entry again (a replay of one the new primary did not have). */
  async write(entry: RevocationEntry): Promise<void> {
    const oldest = Math.max(0, (entry.at - this.ttlSeconds) * 1000);
    const fields = ['at', String(entry.at), 'session', entry.sessionId];
    if (entry.username !== undefined) fields.push('user', entry.username);
    // One key, so one slot: a pipeline is fine on Cluster too.
    const results = await this.redis
      .pipeline()
      .xadd(this.key, 'MINID', '~', String(oldest), '*', ...fields)
      .expire(this.key, this.ttlSeconds)
      .exec();
    for (const [err] of results ?? []) if (err) throw err;
  }

  /** Entries in Redis at or after `since` (epoch seconds), oldest first. */
  async read(since: number): Promise<RevocationEntry[]> {
    const entries: RevocationEntry[] = [];
    let start = String(Math.max(0, (since - CLOCK_SLACK_SECONDS) * 1000));
    for (;;) {
      const page = await this.redis.xrange(this.key, start, '+', 'COUNT', PAGE);
      for (const [id, fields] of page) {
        const entry = parseEntry(fields);
        if (entry && entry.at >= since) entries.push(entry);
        start = `(${id}`;
      }
      if (page.length < PAGE) return entries;
    }
  }

  /** Revocations this process made at or after `since`. */
  local(since: number): RevocationEntry[] {
    return [...this.recent.values()].filter((e) => e.at >= since);
  }

  private remember(entry: RevocationEntry): void {
    this.recent.delete(entry.sessionId);
    this.recent.set(entry.sessionId, entry);
    const horizon = this.clock.now() - this.ttlSeconds;
    for (const [id, old] of this.recent) {
      if (this.recent.size <= LOCAL_CAPACITY && old.at > horizon) break;
      this.recent.delete(id);
    }
  }
}

function parseEntry(fields: string[]): RevocationEntry | undefined {
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) map.set(fields[i] as string, fields[i + 1] as string);
  const sessionId = map.get('session');
  const at = Number(map.get('at'));
  if (sessionId === undefined || !Number.isFinite(at)) return undefined;
  return { sessionId, at, username: map.get('user') };
}
