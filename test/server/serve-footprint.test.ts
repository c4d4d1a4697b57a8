import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postRaw } from '../verifier/https-post.js';
import { buildCli, CLI, REPO_ROOT } from './serve-process.js';

/**
 * Module loading is most of a verifier's cold start (docs/benchmarks.md, "cold start"), so a process that
 * runs only the verifier must not load another role's modules or a web framework. Node's module debug log
 * (NODE_DEBUG=esm,module) lists every file the built binary loads, ES modules and CommonJS alike.
 */

const dir = mkdtempSync(join(tmpdir(), 'kob-footprint-'));
beforeAll(() => buildCli(), 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The files a debug log names: `file://` URLs (ES modules) and `load "…"` paths (CommonJS). */
function loadedFiles(log: string): Set<string> {
  const files = new Set<string>();
  for (const m of log.matchAll(/file:\/\/[^\s'",)]+/g)) files.add(fileURLToPath(m[0]));
  for (const m of log.matchAll(/load "([^"]+)"/g)) files.add(m[1] as string);
  return files;
}

const FORBIDDEN = [
  ['node_modules', 'koa'],
  ['node_modules', '@koa'],
  ['node_modules', 'openid-client'],
  ['node_modules', 'oidc-provider'],
  ['node_modules', 'jose'],
  // The mapping below has no CEL rule: the CEL library is loaded only for rules that need it.
  ['node_modules', '@marcbachmann'],
  ['dist', 'issuer'],
  ['dist', 'proxy'],
  ['dist', 'demo'],
].map((parts) => `${sep}${parts.join(sep)}${sep}`);

describe('serve module footprint', () => {
  it('a verifier-only serve loads no other role, no web framework, no OIDC library and no CEL for claim rules', async () => {
    const configFile = join(dir, 'config.yaml');
    writeFileSync(
      configFile,
      [
        'store: { memory: {} }',
        'verifier: { listen: "127.0.0.1:0", insecureHTTP: true, audiences: ["https://kubernetes.default.svc"] }',
        'ops: { listen: "127.0.0.1:0" }',
        'mapping:',
        '  claimMappings:',
        '    username: { claim: email, prefix: "" }',
        '    groups: { claim: groups, prefix: "oidc:" }',
        '  groupMap: { admins: [cluster-admins] }',
        '',
      ].join('\n'),
    );
    const child = spawn(process.execPath, [CLI, 'serve', '--config', configFile], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH, NODE_DEBUG: 'esm,module' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let debug = '';
    child.stderr.on('data', (c: Buffer) => {
      debug += c.toString();
    });
    let stdout = '';
    const opsURL = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (c: Buffer) => {
        stdout += c.toString();
        const line = stdout
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as { msg?: string; url?: string })
          .find((l) => l.msg === 'ops endpoints listening');
        if (line?.url) resolve(line.url);
      });
      child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${stdout}`)));
    });
    try {
      expect((await postRaw(`${opsURL}/healthz`, '', { method: 'GET' })).body).toBe('ok\n');
    } finally {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
    const files = loadedFiles(debug);
    expect([...files].some((f) => f.includes(`${sep}dist${sep}verifier${sep}`))).toBe(true);
    expect([...files].some((f) => f.includes(`${sep}node_modules${sep}zod${sep}`))).toBe(true);
    for (const file of files) {
      for (const forbidden of FORBIDDEN) expect(file.includes(forbidden), file).toBe(false);
    }
  });
});
