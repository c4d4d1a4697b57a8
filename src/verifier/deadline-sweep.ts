import { performance } from 'node:perf_hooks';

/**
 * Deadlines for many short-lived things without one timer each: items are kept in start order and
 * one interval (a quarter of the timeout) expires those past it, so an item expires between
 * `timeoutMs` and 1.25 × `timeoutMs` after it was added. On the review hot path this is a Map insert
 * and delete instead of arming and clearing a timer (and a Promise.race) per review.
 */
export class DeadlineSweep<T> {
  private readonly started = new Map<T, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly timeoutMs: number,
    private readonly onExpire: (item: T) => void,
  ) {}

  add(item: T): void {
    this.started.set(item, performance.now());
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.sweep(), Math.max(10, this.timeoutMs / 4));
      this.timer.unref();
    }
  }

  delete(item: T): void {
    this.started.delete(item);
  }

  private sweep(): void {
    const cutoff = performance.now() - this.timeoutMs;
    for (const [item, at] of this.started) {
      if (at > cutoff) break;
      this.started.delete(item);
      this.onExpire(item);
    }
    if (this.started.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
