/**
 * Polls `check` every 50 ms until it holds (a rejection counts as "not yet"); fails after
 * `timeoutMs`. For states a real peer reaches on its own schedule (cluster formed, failover done).
 */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
