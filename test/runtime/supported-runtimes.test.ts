import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/free-port.js';

/**
 * The runtime the product ships on: Node.js 24 LTS in the image and in CI, 22 LTS supported, 20.19+
 * kept working (CI runs the whole suite on the machine's Node 20 and on Node 24). These run under
 * whichever Node.js runs the tests.
 */
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const read = (file: string) => readFileSync(join(repoRoot, file), 'utf8');
const major = Number(process.versions.node.split('.')[0]);

describe(`the demo on Node ${process.version}`, () => {
  const home = mkdtempSync(join(tmpdir(), 'kob-runtime-'));
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it(`prints ${major >= 22 ? 'no' : "only oidc-provider's"} runtime warning and no Node.js warning`, async () => {
    const ports = [await freePort(), await freePort(), await freePort()].map(String);
    const child = spawn(
      process.execPath,
      [
        join(repoRoot, 'bin', 'kube-oidc-bridge.js'),
        'demo',
        '--port',
        ports[0] as string,
        '--verifier-port',
        ports[1] as string,
        '--idp-port',
        ports[2] as string,
      ],
      { env: { PATH: process.env.PATH, HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      await expect.poll(() => stdout, { timeout: 30_000 }).toContain('Stop with Ctrl-C');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);

    // oidc-provider warns on every LTS line before 22 ("Jod"); Node 24 ("Krypton") must start clean.
    const runtimeWarning = /oidc-provider WARNING: Unsupported runtime/;
    if (major >= 22) expect(stderr).not.toMatch(runtimeWarning);
    else expect(stderr).toMatch(runtimeWarning);
    // Node's own process warnings look like "(node:1234) [DEP0040] DeprecationWarning: …".
    expect(stderr).not.toMatch(/\(node:\d+\)|Warning: /);
  });
});

describe('the runtime named by the image, CI and the docs', () => {
  const ciNode = /^version=(\d+)\.\d+\.\d+$/m.exec(read('.ci/node24.sh'))?.[1];

  it('both image stages run the Node.js line CI tests (24 LTS, alpine)', () => {
    expect(ciNode).toBe('24');
    const stages = [...read('Dockerfile').matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(stages).toEqual([`node:${ciNode}-alpine`, `node:${ciNode}-alpine`]);
  });

  it('README and package.json name the supported lines: 24 and 22 LTS, 20.19+ for the CLI plugin', () => {
    const requirement = /^Requirements: .*$/m.exec(read('README.md'))?.[0] ?? '';
    expect(requirement).toMatch(/Node\.js 24 LTS/);
    expect(requirement).toMatch(/22 LTS/);
    expect(requirement).toMatch(/20\.19/);
    const pkg = JSON.parse(read('package.json')) as { engines: { node: string } };
    expect(pkg.engines.node).toBe('>=20.19');
  });
});
