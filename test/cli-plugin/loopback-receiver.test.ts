import { describe, expect, it } from 'vitest';
import { startLoopbackReceiver } from '../../src/cli/plugin/loopback-server.js';

describe('loopback redirect receiver', () => {
  // Regression: when no browser could be opened the login falls back to the device flow and closes the
  // receiver; its wait timer (the whole --timeout, 5 minutes by default) kept the plugin process, and so
  // kubectl, waiting long after the ExecCredential was written.
  it('ends a pending wait when it is closed, instead of leaving the timeout running', async () => {
    const receiver = await startLoopbackReceiver();
    const waiting = receiver.waitForCallback('some-state', 600_000);
    const settled = waiting.then(
      () => 'resolved',
      (err: Error) => err.message,
    );
    await receiver.close();
    const outcome = await Promise.race([
      settled,
      new Promise<string>((resolve) => setTimeout(() => resolve('still pending'), 2_000).unref()),
    ]);
    expect(outcome).toMatch(/closed|cancel/i);
  });

  it('still delivers the callback that carries the expected state', async () => {
    const receiver = await startLoopbackReceiver();
    try {
      const waiting = receiver.waitForCallback('good-state', 10_000);
      const res = await fetch(`${receiver.redirectUri}?code=c&state=good-state`);
      expect(res.status).toBe(200);
      const url = await waiting;
      expect(url.searchParams.get('code')).toBe('c');
    } finally {
      await receiver.close();
    }
  });
});
