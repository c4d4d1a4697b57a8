// Bundles the exec plugin's cached path (dist/cli/fast-entry.js and what it imports) into one
// CommonJS file, dist/cli/fast-entry.cjs, which bin/kube-oidc-bridge.js requires first. Part of
// `npm run build`, after tsc. docs/benchmarks.md has the measured difference.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
await build({
  entryPoints: [join(root, 'dist', 'cli', 'fast-entry.js')],
  outfile: join(root, 'dist', 'cli', 'fast-entry.cjs'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  legalComments: 'none',
  logLevel: 'warning',
});
