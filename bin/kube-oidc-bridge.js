#!/usr/bin/env node
// Entry point. Kept to a bare dynamic import: the exec-plugin fast path lives in dist/cli/main.js
// and must not pay for loading anything it does not use. The compile cache (Node ≥ 22.1, a no-op
// before) is switched on first, so every module imported after it is compiled once per version.
import { enableCompileCache } from '../dist/cli/compile-cache.js';

enableCompileCache(process.env);
import('../dist/cli/main.js').then((m) => m.main(process.argv.slice(2)));
