import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configObject } from '../mapping/mapping-config.js';
import { runCliCaptured } from '../support/run-cli.js';

/** `mapping explain` pairs group provenance with the upstream's own groups claim. */

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kob-explain-provenance-'));
  const config = configObject(
    { claimMappings: { username: { claim: 'sub', prefix: '' }, groups: { claim: 'roles', prefix: '' } } },
    [{ name: 'corp' }],
  );
  const issuer = config['issuer'] as { upstreams: Array<Record<string, unknown>> };
  issuer.upstreams[0] = { ...issuer.upstreams[0], groups: { claim: 'roles' } };
  writeFileSync(join(dir, 'config.yaml'), JSON.stringify(config));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('mapping explain: group provenance', () => {
  it('an upstream whose groups are in another claim: provenance follows groups.claim', async () => {
    const claims = { sub: 'a1', roles: ['k8s-dev'], groups: ['unrelated'], kob_group_sources: 'o/3' };
    const run = await runCliCaptured(
      [
        'mapping',
        'explain',
        '--config',
        'config.yaml',
        '--upstream',
        'corp',
        '--claims',
        JSON.stringify(claims),
      ],
      { cwd: dir },
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('k8s-dev  (okta)');
    expect(run.stdout).not.toContain('unrelated  (okta)');
    expect(run.stdout).toContain("3 dropped by the upstream's group filter");
  });
});
