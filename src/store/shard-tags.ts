import type { Cluster } from './ioredis.js';

const CLUSTER_SLOTS = 16_384;

/** CRC16/XMODEM, the hash Redis Cluster maps keys to slots with (`CRC16(tag) mod 16384`). */
function crc16(text: string): number {
  let crc = 0;
  for (const byte of Buffer.from(text)) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/**
 * One hash tag per Cluster master (`host:port` → tag): a key `…{tag}…` lives on that master. For
 * keys that must exist on every shard (the generation marker, the replica acknowledgement probe).
 * Tags are `g0`, `g1`, … — the first that lands on each master, so every process picks the same.
 */
export function shardTags(cluster: Cluster): Map<string, string> {
  const masters = new Set(cluster.slots.map((owners) => owners?.[0]).filter((o) => o !== undefined));
  const tags = new Map<string, string>();
  // A few dozen tags cover a handful of masters; the bound only guards a pathological slot map.
  for (let n = 0; tags.size < masters.size && n < 100_000; n++) {
    const tag = `g${n}`;
    const owner = cluster.slots[crc16(tag) % CLUSTER_SLOTS]?.[0];
    if (owner !== undefined && !tags.has(owner)) tags.set(owner, tag);
  }
  return tags;
}
