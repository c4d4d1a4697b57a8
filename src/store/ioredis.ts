import { createRequire } from 'node:module';
import type * as IORedis from 'ioredis';

/**
 * ioredis, loaded with `require()` rather than `import`. ioredis is CommonJS; importing CommonJS from an
 * ES module makes Node scan the source of the module and of every module it re-exports for the names
 * it exports, on top of loading them. For ioredis that scan measured about as much CPU as the loading
 * itself (docs/benchmarks.md, "cold start"), so the store takes the package the CommonJS way.
 */
const ioredis = createRequire(import.meta.url)('ioredis') as typeof IORedis;

export const Redis = ioredis.Redis;
export type Redis = IORedis.Redis;
export const Cluster = ioredis.Cluster;
export type Cluster = IORedis.Cluster;
export type { ChainableCommander, RedisOptions, Result } from 'ioredis';
