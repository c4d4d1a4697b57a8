import type { RevocationEntry, RevocationJournal } from './revocation-journal.js';
import type { RevocationReplay } from './store-resilience.js';

/** Sessions revoked again at once: a replay after a failover should not flood the new primary. */
const CONCURRENCY = 32;

/**
 * Re-applies revocations made at or after `since`: every entry of the journal as the (new) primary has
 * it, plus those this process remembers and the journal lacks (they went down with the old primary;
 * they are journaled again). Revoking a session twice is harmless, so the replay is idempotent.
 * `revokeAgain` deletes a session with its tokens and index entries and says whether it was live.
 */
export async function replayRevocations(
  journal: RevocationJournal,
  since: number,
  revokeAgain: (sessionId: string) => Promise<boolean>,
): Promise<RevocationReplay> {
  const stored = await journal.read(since);
  const inJournal = new Set(stored.map((e) => e.sessionId));
  const missing = journal.local(since).filter((e) => !inJournal.has(e.sessionId));
  for (const entry of missing) await journal.write(entry);

  const bySession = new Map<string, RevocationEntry>();
  for (const entry of [...stored, ...missing]) bySession.set(entry.sessionId, entry);
  const ids = [...bySession.keys()];
  let restored = 0;
  for (let i = 0; i < ids.length; i += CONCURRENCY) {
    const results = await Promise.all(ids.slice(i, i + CONCURRENCY).map((id) => revokeAgain(id)));
    restored += results.filter(Boolean).length;
  }
  return { replayed: ids.length, restored };
}
