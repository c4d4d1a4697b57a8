import { ConfigError } from '../core/errors.js';
import type { EphemeralNamespace } from './types.js';

/**
 * The Redis key layout. Every key starts with the configured prefix; the part in `{…}` is the Redis
 * Cluster hash tag, so keys that one operation touches together land in one slot:
 *
 * | key                                   | type   | holds                                          |
 * |---------------------------------------|--------|------------------------------------------------|
 * | `P session:{ID}`                      | string | session record, then its tokens' lines (1)     |
 * | `P sessions`                          | zset   | every session id, score = exp                  |
 * | `P at:{HASH}`                         | string | access-token record (2)                        |
 * | `P rt:{HASH}`                         | string | refresh-token record (2)                       |
 * | `P rt:{HASH}:used`                    | string | first use time (epoch s); same TTL as `rt`     |
 * | `P eph:NS:{ID}`                       | string | `{"expiresAt":…,"value":…}` ephemeral record   |
 * | `P rl:{KEY}:WINDOW`                   | string | rate-limit counter of one fixed window         |
 * | `P revocations`                       | stream | revocation journal: `at`, `session`, `user`     |
 * | `P generation:{TAG}`                  | string | store generation marker (one per Cluster shard) |
 * | `P ack:{TAG}`                         | string | replica acknowledgement probe (one per shard)  |
 *
 * HASH is a credential hash (SHA-256/HMAC, base64url), never a credential. (1): redis-sessions.ts;
 * (2): record-layout.ts. Earlier releases also wrote `P session:{ID}:tokens` (a zset of the session's
 * tokens; still read and deleted when the session is revoked) and `P user:{NAME}:sessions` (no longer
 * read; each expires with its last session).
 */
export class RedisKeys {
  constructor(readonly prefix: string) {
    if (/[{}]/.test(prefix)) {
      // A brace in the prefix would become the hash tag of every key and defeat the layout above.
      throw new ConfigError([{ path: 'store.redis.keyPrefix', message: 'must not contain { or }' }]);
    }
  }

  session(id: string): string {
    return `${this.prefix}session:{${id}}`;
  }

  /** A session's token index as earlier releases wrote it (today the tokens are listed in `session`). */
  legacySessionTokens(id: string): string {
    return `${this.prefix}session:{${id}}:tokens`;
  }

  allSessions(): string {
    return `${this.prefix}sessions`;
  }

  accessToken(hash: string): string {
    return `${this.prefix}at:{${hash}}`;
  }

  refreshToken(hash: string): string {
    return `${this.prefix}rt:{${hash}}`;
  }

  refreshTokenUse(hash: string): string {
    return `${this.prefix}rt:{${hash}}:used`;
  }

  ephemeral(ns: EphemeralNamespace, id: string): string {
    return `${this.prefix}eph:${ns}:{${encodeURIComponent(id)}}`;
  }

  counter(key: string, window: number): string {
    return `${this.prefix}rl:{${encodeURIComponent(key)}}:${window}`;
  }

  /** The revocation journal (one stream; on Cluster it lives in one shard, apart from most sessions). */
  revocationJournal(): string {
    return `${this.prefix}revocations`;
  }

  /** A generation marker; TAG picks the slot (and so the Cluster shard) it lives in. */
  generation(tag: string): string {
    return `${this.prefix}generation:{${tag}}`;
  }

  /** The write a replica acknowledgement waits for; TAG picks the shard. */
  ackProbe(tag: string): string {
    return `${this.prefix}ack:{${tag}}`;
  }

  /** The keys a token listed under a session (`a:HASH` / `r:HASH`) stands for. */
  tokenMember(member: string): string[] {
    const hash = member.slice(2);
    return member.startsWith('a:')
      ? [this.accessToken(hash)]
      : [this.refreshToken(hash), this.refreshTokenUse(hash)];
  }
}
