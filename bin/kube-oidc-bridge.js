#!/usr/bin/env node
// Entry point, CommonJS on purpose (bin/package.json): kubectl runs `kube-oidc-bridge login` before
// every command, and a cached answer comes from one bundled file loaded with require
// (dist/cli/fast-entry.cjs, built by scripts/bundle-fast-entry.mjs) without starting the ES module
// loader. Anything else imports the CLI. The compile cache (Node ≥ 22.1, a no-op before) is switched on
// first, so every module imported after it is compiled once per version.
'use strict';

const argv = process.argv.slice(2);
const fast = require('../dist/cli/fast-entry.cjs');
if (!fast.answerLoginFromCache(argv)) {
  fast.enableCompileCache(process.env);
  import('../dist/cli/main.js').then((m) => m.main(argv));
}
