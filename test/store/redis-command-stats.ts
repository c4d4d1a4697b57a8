import type { Redis } from 'ioredis';

/** Calls per command so far (`INFO commandstats`) on one server or node. */
export async function commandCounts(admin: Redis): Promise<Record<string, number>> {
  const info = await admin.info('commandstats');
  const counts: Record<string, number> = {};
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) counts[match[1]!] = Number(match[2]);
  return counts;
}

/**
 * Commands run between two snapshots, leaving out the INFO calls that took them and a cluster
 * client's topology refreshes (`CLUSTER SLOTS|SHARDS|INFO`), which run on their own timer.
 */
export function diffCounts(
  before: Record<string, number>,
  after: Record<string, number>,
): Record<string, number> {
  const diff: Record<string, number> = {};
  for (const [name, calls] of Object.entries(after)) {
    const delta = calls - (before[name] ?? 0);
    if (delta > 0 && name !== 'info' && !name.startsWith('cluster|')) diff[name] = delta;
  }
  return diff;
}
