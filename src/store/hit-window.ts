/** One fixed rate-limit window: its number since the epoch and when it ends (epoch seconds). */
export interface HitWindow {
  index: number;
  endsAt: number;
}

/**
 * The fixed window `now` falls in. Both stores key counters by the window index, so every replica
 * (and the injected clock in tests) agrees on when a window starts, whatever the counter's TTL says.
 */
export function hitWindow(now: number, windowSeconds: number): HitWindow {
  const size = Math.max(1, Math.floor(windowSeconds));
  const index = Math.floor(now / size);
  return { index, endsAt: (index + 1) * size };
}
