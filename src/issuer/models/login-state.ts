import { timingSafeEqual } from 'node:crypto';
import { hashCredential, randomId } from '../../core/token-format.js';
import type { TokenStore } from '../../store/index.js';
import type { LoginPurpose } from '../login/types.js';

/**
 * What the store keeps between the redirect to the upstream and the callback (namespace `login`, keyed
 * by a hash of `state`, TTL `issuer.loginStateTTL`), so any replica can take the callback. This model
 * owns those keys, makes the `state` and the browser binding, and hands a state out once.
 */
export interface LoginState {
  upstream: string;
  nonce: string;
  codeVerifier: string;
  purpose: LoginPurpose;
  createdAt: number;
  /** Hash of the browser-binding cookie: the callback must come from the browser that started. */
  browserBinding: string;
}

/** What the callback gets for the `state` and binding it brought. */
export type TakenLoginState =
  | { status: 'ok'; login: LoginState }
  | { status: 'unknown' }
  | { status: 'expired' | 'other-browser'; upstream: string };

const key = (state: string) => hashCredential(state);

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class LoginStates {
  constructor(private readonly store: TokenStore) {}

  /**
   * Stores a new login: a fresh random `state` (256 bits) to send upstream and a fresh browser binding
   * for the cookie — never a value the browser brought: one planted by someone else (login CSRF,
   * session fixation) would let their callback complete in this browser.
   */
  async start(
    record: Omit<LoginState, 'browserBinding'>,
    ttl: number,
  ): Promise<{ state: string; binding: string }> {
    const state = randomId(32);
    const binding = randomId(32);
    await this.store.putEphemeral(
      'login',
      key(state),
      { ...record, browserBinding: hashCredential(binding) },
      ttl,
    );
    return { state, binding };
  }

  /**
   * Takes the login `state` names: atomic get-and-delete, so a replayed callback finds nothing. A login
   * older than `ttl` seconds at `now`, or brought back by a browser without its binding, is taken too
   * (spent either way) and reported as such.
   */
  async take(state: string, binding: string | undefined, now: number, ttl: number): Promise<TakenLoginState> {
    const login = state ? await this.store.takeEphemeral<LoginState>('login', key(state)) : undefined;
    if (!login) return { status: 'unknown' };
    if (login.createdAt + ttl <= now) return { status: 'expired', upstream: login.upstream };
    if (!binding || !sameHash(hashCredential(binding), login.browserBinding)) {
      return { status: 'other-browser', upstream: login.upstream };
    }
    return { status: 'ok', login };
  }
}
