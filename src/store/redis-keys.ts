import { ConfigError } from '../core/errors.js';
import type { EphemeralNamespace } from './types.js';

/**
 * The Redis key layout. Every key starts with the configured prefix; the part in `{…}` is the Redis
 * Cluster hash tag, so keys that one operation touches together land in one slot:
 *
 * | key                                   | type   | holds                                          |
 * |---------------------------------------|--------|------------------------------------------------|
 * | `P session:{ID}`                      | string | SessionRecord JSON                             |
 * | `P session:{ID}:tokens`               | zset   | `a:HASH` / `r:HASH` of its tokens, score = exp |
 * | `P user:{NAME}:sessions`              | zset   | session ids of one user, score = exp           |
 * | `P sessions`                          | zset   | every session id, score = exp                  |
 * | `P at:{HASH}`                         | string | AccessTokenRecord JSON                         |
 * | `P rt:{HASH}`                         | string | RefreshTokenRecord JSON                        |
 * | `P rt:{HASH}:used`                    | string | first use time (epoch s); same TTL as `rt`     |
 * | `P eph:NS:{ID}`                       | string | `{"expiresAt":…,"value":…}` ephemeral record   |
 * | `P rl:{KEY}:WINDOW`                   | string | rate-limit counter of one fixed window         |
 * | `P revocations`                       | stream | revocation journal: `at`, `session`, `user`     |
 * | `P generation:{TAG}`                  | string | store generation marker (one per Cluster shard) |
 * | `P ack:{TAG}`                         | string | replica acknowledgement probe (one per shard)  |
 *
 * HASH is a credential hash (SHA-256/HMAC, base64url), never a credential.
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

  sessionTokens(id: string): string {
    return `${this.prefix}session:{${id}}:tokens`;
  }

  userSessions(username: string): string {
    // Percent-encoding keeps braces in a username from breaking the hash tag.
    return `${this.prefix}user:{${encodeURIComponent(username)}}:sessions`;
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

  /** The keys a `session:{ID}:tokens` member stands for. */
  tokenMember(member: string): string[] {
    const hash = member.slice(2);
    return member.startsWith('a:')
      ? [this.accessToken(hash)]
      : [this.refreshToken(hash), this.refreshTokenUse(hash)];
  }
}
