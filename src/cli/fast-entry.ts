import { answerFromCache } from './plugin/fast-path.js';

export { enableCompileCache } from './compile-cache.js';

/**
 * The exec plugin's cached answer, bundled at build time into one CommonJS file
 * (`dist/cli/fast-entry.cjs`, scripts/bundle-fast-entry.mjs) that `bin/kube-oidc-bridge.js` loads
 * with `require` before anything else: no ES module loader, one file read, one compile. kubectl runs
 * `kube-oidc-bridge login` before every command, so this is the path users wait for most.
 * Returns false for anything but a `login` the cache can answer; the full CLI then takes over.
 */
export function answerLoginFromCache(argv: string[]): boolean {
  if (argv[0] !== 'login') return false;
  return answerFromCache(argv.slice(1), {
    stdout: process.stdout,
    env: process.env,
    now: () => Math.floor(Date.now() / 1000),
    parentPid: process.ppid,
  });
}
