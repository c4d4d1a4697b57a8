#!/usr/bin/env node
// Entry point. Kept to a bare dynamic import: the exec-plugin fast path lives in dist/cli/main.js
// and must not pay for loading anything it does not use.
import('../dist/cli/main.js').then((m) => m.main(process.argv.slice(2)));
