import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { hashCredential } from '../../src/core/token-format.js';
import { LoginStates } from '../../src/issuer/models/login-state.js';
import { PendingAuthorizations } from '../../src/issuer/models/pending-authorization.js';
import { UpstreamCheckLocks } from '../../src/issuer/models/upstream-check-lock.js';
import { createMemoryStore } from '../../src/store/index.js';

/**
 * The models of a browser login own their store keys and change state atomically: a login state and
 * a parked authorization request are used once, a login state only by the browser that started it.
 */

const TTL = 300;

function world() {
  const clock = new ManualClock();
  const store = createMemoryStore({ clock });
  return { clock, store, logins: new LoginStates(store) };
}

function startLogin(logins: LoginStates, createdAt: number) {
  return logins.start(
    { upstream: 'corp', nonce: 'n', codeVerifier: 'v', purpose: { kind: 'web' }, createdAt },
    TTL,
  );
}

describe('login state', () => {
  it('keeps neither the state nor the binding in the clear, and hands the login out once', async () => {
    const { clock, store, logins } = world();
    const { state, binding } = await startLogin(logins, clock.now());
    expect(state).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(binding).not.toBe(state);
    const stored = await store.getEphemeral<Record<string, unknown>>('login', hashCredential(state));
    expect(stored?.['browserBinding']).toBe(hashCredential(binding));
    expect(JSON.stringify(stored)).not.toContain(binding);

    const taken = await logins.take(state, binding, clock.now(), TTL);
    expect(taken).toMatchObject({ status: 'ok', login: { upstream: 'corp', purpose: { kind: 'web' } } });
    expect(await logins.take(state, binding, clock.now(), TTL)).toEqual({ status: 'unknown' });
  });

  it('two concurrent callbacks with one state: exactly one gets the login', async () => {
    const { clock, logins } = world();
    const { state, binding } = await startLogin(logins, clock.now());
    const both = await Promise.all([
      logins.take(state, binding, clock.now(), TTL),
      logins.take(state, binding, clock.now(), TTL),
    ]);
    expect(both.map((t) => t.status).sort()).toEqual(['ok', 'unknown']);
  });

  it('refuses, and spends, a login brought back by another browser', async () => {
    const { clock, logins } = world();
    const { state } = await startLogin(logins, clock.now());
    expect(await logins.take(state, 'a-binding-planted-elsewhere', clock.now(), TTL)).toEqual({
      status: 'other-browser',
      upstream: 'corp',
    });
    const again = await startLogin(logins, clock.now());
    expect(await logins.take(again.state, undefined, clock.now(), TTL)).toMatchObject({
      status: 'other-browser',
    });
    expect(await logins.take(state, undefined, clock.now(), TTL)).toEqual({ status: 'unknown' });
  });

  it('refuses a login older than its TTL, even while the store still holds it', async () => {
    const { clock, logins } = world();
    const { state, binding } = await startLogin(logins, clock.now() - TTL);
    expect(await logins.take(state, binding, clock.now(), TTL)).toEqual({
      status: 'expired',
      upstream: 'corp',
    });
  });

  it('an empty state finds nothing', async () => {
    const { clock, logins } = world();
    expect(await logins.take('', 'b', clock.now(), TTL)).toEqual({ status: 'unknown' });
  });
});

describe('pending authorization', () => {
  const request = {
    clientId: 'kube-oidc-bridge',
    redirectUri: 'http://127.0.0.1:40000/callback',
    codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    audience: 'https://k8s.test',
    state: 's1',
  };

  it('is read while the person picks an upstream, then taken once', async () => {
    const { store } = world();
    const pending = new PendingAuthorizations(store);
    const id = await pending.park(request, TTL);
    expect(await pending.find(id)).toEqual(request);
    expect(await pending.find(id)).toEqual(request);
    expect(await pending.take(id)).toEqual(request);
    expect(await pending.take(id)).toBeUndefined();
    expect(await pending.find(id)).toBeUndefined();
  });

  it('each request gets its own id; an unknown or empty id finds nothing', async () => {
    const { store } = world();
    const pending = new PendingAuthorizations(store);
    const [a, b] = await Promise.all([pending.park(request, TTL), pending.park(request, TTL)]);
    expect(a).not.toBe(b);
    expect(await pending.find('')).toBeUndefined();
    expect(await pending.take('not-a-request')).toBeUndefined();
  });

  it('expires with its TTL', async () => {
    const { clock, store } = world();
    const pending = new PendingAuthorizations(store);
    const id = await pending.park(request, TTL);
    clock.advance(TTL);
    expect(await pending.take(id)).toBeUndefined();
  });
});

describe('upstream check lock', () => {
  it('one holder per session at a time; released, or expired, it can be taken again', async () => {
    const { clock, store } = world();
    const locks = new UpstreamCheckLocks(store);
    expect(await locks.acquire('session-1', clock.now())).toBe(true);
    expect(await locks.acquire('session-1', clock.now())).toBe(false);
    expect(await locks.acquire('session-2', clock.now())).toBe(true);
    await locks.release('session-1');
    expect(await locks.acquire('session-1', clock.now())).toBe(true);
    clock.advance(30);
    expect(await locks.acquire('session-2', clock.now())).toBe(true);
  });
});
