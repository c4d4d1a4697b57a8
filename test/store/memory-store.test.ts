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
});
