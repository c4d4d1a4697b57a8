import type { TokenStore } from '../../store/index.js';

/**
 * One upstream re-check per session at a time (grants/refresh.ts): a lock in the store (namespace
 * `lock`, key `refresh-check:<session id>`), so replicas share it. It expires by itself after
 * CHECK_LOCK_SECONDS, so a replica that died holding it blocks nobody for long. This model owns those keys.
 */
const CHECK_LOCK_SECONDS = 30;

const key = (sessionId: string) => `refresh-check:${sessionId}`;

export class UpstreamCheckLocks {
  constructor(private readonly store: TokenStore) {}

  /** Takes the session's lock (create-if-absent); false when another request holds it. */
  acquire(sessionId: string, now: number): Promise<boolean> {
    return this.store.putEphemeralIfAbsent('lock', key(sessionId), { at: now }, CHECK_LOCK_SECONDS);
  }

  release(sessionId: string): Promise<unknown> {
    return this.store.takeEphemeral('lock', key(sessionId));
  }
}
