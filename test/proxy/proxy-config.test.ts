import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { ConfigError } from '../../src/core/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'kob-proxy-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
for (const f of ['proxy.crt', 'proxy.key', 'upstream.kubeconfig']) writeFileSync(join(dir, f), 'x');

function problems(raw: unknown): string[] {
  try {
    parseConfig(raw, { env: {}, baseDir: dir });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.path}: ${p.message}`);
    throw err;
  }
  return [];
}

describe('proxy configuration', () => {
  it('enables the proxy as the only role, with visible defaults', () => {
    const config = parseConfig(
      {
        store: { memory: {} },
        proxy: {
          listen: '127.0.0.1:8444',
          tls: { cert: 'proxy.crt', key: 'proxy.key' },
          audiences: ['https://prod.example.com'],
          upstream: { kubeconfig: 'upstream.kubeconfig' },
        },
      },
      { env: {}, baseDir: dir },
    );
    expect(config.proxy).toEqual({
      listen: '127.0.0.1:8444',
      tls: { cert: join(dir, 'proxy.crt'), key: join(dir, 'proxy.key') },
      audiences: ['https://prod.example.com'],
      upstream: { kubeconfig: join(dir, 'upstream.kubeconfig'), connectTimeout: 10 },
      tokenPassthrough: false,
    });
  });

  it('defaults to the in-cluster service account when no kubeconfig is given', () => {
    const config = parseConfig(
      { store: { memory: {} }, proxy: { tls: { cert: 'proxy.crt', key: 'proxy.key' }, audiences: ['a'] } },
      { env: {}, baseDir: dir },
    );
    expect(config.proxy?.upstream).toEqual({ connectTimeout: 10 });
    expect(config.proxy?.listen).toBe('127.0.0.1:8444');
  });

  it.each([
    [{ audiences: ['a'] }, 'proxy.tls'],
    [{ tls: { cert: 'proxy.crt', key: 'proxy.key' }, audiences: [] }, 'proxy.audiences'],
    [
      { tls: { cert: 'proxy.crt', key: 'missing.key' }, audiences: ['a'] },
      'proxy.tls.key: file not readable',
    ],
    [
      { tls: { cert: 'proxy.crt', key: 'proxy.key' }, audiences: ['a'], upstream: { kubconfig: 'x' } },
      'proxy.upstream: unknown key',
    ],
  ])('names the bad field: %j → %s', (proxy, expected) => {
    expect(problems({ store: { memory: {} }, proxy }).join('\n')).toContain(expected);
  });
});
