import { createRequire } from 'node:module';
import type * as Zod from 'zod';

/**
 * zod as the configuration schemas use it, tuned for parsing one file once per process:
 *
 * - loaded through `require()`, i.e. zod's CommonJS build: zod is some 95 small modules, and Node
 *   loads CommonJS modules with less work each than ES modules (docs/benchmarks.md, "cold start");
 * - without zod's JIT, which generates and compiles a function per object schema on its first parse:
 *   worth it for a schema parsed many times, pure cost for a configuration parsed once.
 *
 * Nothing else in the process uses zod, so the one instance has no twin to disagree with.
 */
const zod = createRequire(import.meta.url)('zod') as typeof Zod;
zod.config({ jitless: true });

export const z: typeof Zod.z = zod.z;
export type { input, output, ZodError } from 'zod';
