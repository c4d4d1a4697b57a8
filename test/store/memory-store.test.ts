import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { createMemoryStore } from '../../src/store/index.js';

describe('memory store', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs one periodic sweep timer and close() stops it', async () => {
    vi.useFakeTimers();
    const store = createMemoryStore({ clock: new ManualClock() });
    expect(vi.getTimerCount()).toBe(1);
    await store.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('the sweep drops expired entries without anyone reading them', async () => {
    vi.useFakeTimers();
    const clock = new ManualClock();
    const store = createMemoryStore({ clock });
    try {
      await store.putEphemeral('login', 'state-1', { nonce: 'n' }, 30);
      clock.advance(30);
      vi.advanceTimersByTime(60_000);
      clock.set(clock.now() - 30);
      // Moved back before the expiry: only a sweep that already ran can explain the record being gone.
      expect(await store.getEphemeral('login', 'state-1')).toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it('holds at most maxEphemeralRecords ephemeral records, evicting the oldest first', async () => {
    const store = createMemoryStore({ clock: new ManualClock(), maxEphemeralRecords: 3 });
    try {
      for (const id of ['a', 'b', 'c', 'd']) await store.putEphemeral('login', id, { id }, 600);
      expect(await store.getEphemeral('login', 'a')).toBeUndefined();
      expect(await store.getEphemeral('login', 'd')).toEqual({ id: 'd' });
      // Replacing an existing record evicts nothing.
      await store.putEphemeral('login', 'b', { id: 'b2' }, 600);
      expect(await store.getEphemeral('login', 'c')).toEqual({ id: 'c' });
      expect(await store.putEphemeralIfAbsent('lock', 'e', {}, 600)).toBe(true);
      expect(await store.getEphemeral('login', 'b')).toBeUndefined();
      // Rate-limit counters are bounded too (twice the cap), oldest window first.
      for (let i = 0; i < 10; i++) await store.hit(`ratelimit:login:198.51.100.${i}`, 60);
      expect(await store.hit('ratelimit:login:198.51.100.9', 60)).toBe(2);
      expect(await store.hit('ratelimit:login:198.51.100.0', 60)).toBe(1);
    } finally {
      await store.close();
    }
  });
});
