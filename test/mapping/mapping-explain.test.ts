import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type CliRun, runCliCaptured } from '../support/run-cli.js';
import { configObject } from './mapping-config.js';

let dir: string;

function explain(...args: string[]): Promise<CliRun> {
  return runCliCaptured(['mapping', 'explain', ...args], { cwd: dir });
}

const MAPPING = {
  claimMappings: {
    username: { claim: 'email', prefix: '' },
    groups: { claim: 'groups', prefix: '' },
    uid: { claim: 'sub' },
    extra: [{ key: 'example.com/tenant', valueExpression: 'claims.tenant' }],
  },
  groupMap: { 'k8s-admins': ['system:masters'] },
};

const ALICE = {
  sub: 'a1',
  email: 'alice@example.com',
  email_verified: true,
  groups: ['k8s-admins', 'dev'],
  tenant: 'acme',
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kob-mapping-explain-'));
  // YAML is a superset of JSON: the files below are valid configuration files.
  writeFileSync(
    join(dir, 'config.yaml'),
    JSON.stringify(
      configObject(MAPPING, [
        { name: 'corp', mapping: { claimMappings: { username: { claim: 'upn', prefix: 'corp:' } } } },
        { name: 'partner' },
      ]),
    ),
  );
  writeFileSync(
    join(dir, 'broken.yaml'),
    JSON.stringify(configObject({ claimMappings: { username: { expression: 'claims.sub +' } } })),
  );
  writeFileSync(join(dir, 'alice.json'), JSON.stringify(ALICE));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('kube-oidc-bridge mapping explain', () => {
  test('mapped claims print username, uid, groups and extra; exit 0', async () => {
    const run = await explain('--config', 'config.yaml', '--claims', JSON.stringify(ALICE));
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('rules:    mapping\n');
    expect(run.stdout).toContain('username: alice@example.com\n');
    expect(run.stdout).toContain('uid:      a1\n');
    expect(run.stdout).toContain('groups:   k8s-admins, dev, system:masters\n');
    expect(run.stdout).toContain('  example.com/tenant: acme\n');
    expect(run.stderr).toBe('');
  });

  test('refused claims name the rule and the reason; exit 1', async () => {
    const claims = { ...ALICE, groups: ['system:masters'] };
    const run = await explain('--config', 'config.yaml', '--claims', JSON.stringify(claims));
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('result:   refused\n');
    expect(run.stdout).toContain('rule:     system-guard\n');
    expect(run.stdout).toMatch(/reason: {3}group "system:masters" .*groupMap/);
  });

  test('a CEL evaluation failure is reported as such; exit 1', async () => {
    const { tenant: _omitted, ...withoutTenant } = ALICE;
    const run = await explain(
      '--config',
      'config.yaml',
      '--claims',
      JSON.stringify(withoutTenant),
      '--output',
      'json',
    );
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toEqual({
      rules: 'mapping',
      mapped: false,
      rule: 'mapping.claimMappings.extra.0',
      reason: expect.stringContaining('No such key: tenant'),
      evaluationError: true,
    });
  });

  test('--output json prints the mapped user', async () => {
    const run = await explain('--config', 'config.yaml', '--claims', '@alice.json', '--output', 'json');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      rules: 'mapping',
      mapped: true,
      user: {
        username: 'alice@example.com',
        uid: 'a1',
        groups: ['k8s-admins', 'dev', 'system:masters'],
        extra: { 'example.com/tenant': ['acme'] },
      },
    });
  });

  test("--upstream uses that upstream's own rules", async () => {
    const run = await explain(
      '--config',
      'config.yaml',
      '--claims',
      '{"upn":"bob@corp"}',
      '--upstream',
      'corp',
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('rules:    issuer.upstreams.0.mapping\n');
    expect(run.stdout).toContain('username: corp:bob@corp\n');
  });

  test('--upstream without rules of its own falls back to the top-level mapping', async () => {
    const run = await explain('--config', 'config.yaml', '--claims', '@alice.json', '--upstream', 'partner');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('rules:    mapping\n');
  });

  test.each([
    {
      name: 'bad inline JSON',
      args: ['--claims', '{"email":'],
      stderr: /--claims: --claims is not valid JSON/,
    },
    {
      name: 'bad JSON in a file',
      args: ['--claims', '@config.yaml.missing'],
      stderr: /cannot read config\.yaml\.missing/,
    },
    { name: 'claims that are not an object', args: ['--claims', '["a"]'], stderr: /must be a JSON object/ },
    { name: 'missing --claims', args: [], stderr: /--claims is required/ },
    {
      name: 'unknown upstream',
      args: ['--claims', '{}', '--upstream', 'nope'],
      stderr: /unknown upstream "nope" \(known: corp, partner\)/,
    },
    {
      name: 'unknown output format',
      args: ['--claims', '{}', '--output', 'yaml'],
      stderr: /--output must be text or json/,
    },
    { name: 'unknown flag', args: ['--claims', '{}', '--verbose'], stderr: /Unknown option '--verbose'/ },
  ])('usage error: $name; exit 2', async ({ args, stderr }) => {
    const run = await explain('--config', 'config.yaml', ...args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(stderr);
    expect(run.stdout).toBe('');
  });

  test('a JSON file that does not parse says so, naming the file', async () => {
    writeFileSync(join(dir, 'truncated.json'), '{"email": "alice@');
    const run = await explain('--config', 'config.yaml', '--claims', '@truncated.json');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/truncated\.json is not valid JSON/);
  });

  test('an invalid rule in the config is reported with its path; exit 2', async () => {
    const run = await explain('--config', 'broken.yaml', '--claims', '{}');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/mapping\.claimMappings\.username\.expression: compilation failed/);
  });

  test('--help documents every flag and the exit codes', async () => {
    const run = await explain('--help');
    expect(run.code).toBe(0);
    for (const flag of ['--config', '--claims', '--upstream', '--output']) expect(run.stdout).toContain(flag);
    expect(run.stdout).toMatch(/0 mapped, 1 refused/);
  });
});
