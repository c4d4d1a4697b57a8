import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ManualClock } from '../../src/core/clock.js';
import { ConfigError } from '../../src/core/errors.js';
import { upstreamFromKubeconfig, upstreamInCluster } from '../../src/proxy/index.js';

const dir = mkdtempSync(join(tmpdir(), 'kob-proxy-upstream-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

function kubeconfig(
  name: string,
  user: Record<string, unknown>,
  cluster: Record<string, unknown> = {},
): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        { name: 'other', cluster: { server: 'https://other:6443' } },
        {
          name: 'prod',
          cluster: {
            server: 'https://prod.example.com:6443/gateway',
            'certificate-authority-data': Buffer.from(CA).toString('base64'),
            ...cluster,
          },
        },
      ],
      users: [{ name: 'proxy', user }],
      contexts: [
        { name: 'prod', context: { cluster: 'prod', user: 'proxy' } },
        { name: 'other', context: { cluster: 'other', user: 'proxy' } },
      ],
      'current-context': 'prod',
    }),
  );
  return file;
}

describe('upstreamFromKubeconfig', () => {
  const clock = new ManualClock();

  it('reads the current context: server (with its path), CA, client certificate', () => {
    const file = kubeconfig(
      'cert.kubeconfig',
      {
        'client-certificate-data': Buffer.from('CERT').toString('base64'),
        'client-key-data': Buffer.from('KEY').toString('base64'),
      },
      { 'tls-server-name': 'kubernetes' },
    );
    const target = upstreamFromKubeconfig(file, undefined, clock);
    expect(target.url.href).toBe('https://prod.example.com:6443/gateway');
    expect(target.ca).toBe(CA);
    expect(target.serverName).toBe('kubernetes');
    expect(target.clientCert).toEqual({ cert: 'CERT', key: 'KEY' });
    expect(target.bearerToken()).toBeUndefined();
  });

  it('re-reads a tokenFile once a minute (rotated service-account tokens)', () => {
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'first\n');
    const target = upstreamFromKubeconfig(kubeconfig('tf.kubeconfig', { tokenFile }), undefined, clock);
    expect(target.bearerToken()).toBe('first');
    writeFileSync(tokenFile, 'second\n');
    clock.advance(59);
    expect(target.bearerToken()).toBe('first');
    clock.advance(1);
    expect(target.bearerToken()).toBe('second');
  });

  const refused: { name: string; file: () => string; context?: string; message: RegExp }[] = [
    {
      name: 'exec credentials',
      file: () => kubeconfig('exec.kubeconfig', { exec: { command: 'aws' } }),
      message: /exec and auth-provider/,
    },
    {
      name: 'no credential at all',
      file: () => kubeconfig('none.kubeconfig', {}),
      message: /no client certificate and no token/,
    },
    {
      name: 'a certificate without its key',
      file: () => kubeconfig('half.kubeconfig', { 'client-certificate-data': 'eA==' }),
      message: /go together/,
    },
    {
      name: 'insecure-skip-tls-verify',
      file: () => kubeconfig('insecure.kubeconfig', { token: 't' }, { 'insecure-skip-tls-verify': true }),
      message: /insecure-skip-tls-verify/,
    },
    {
      name: 'a plain http server',
      file: () => kubeconfig('http.kubeconfig', { token: 't' }, { server: 'http://prod:8080' }),
      message: /https:\/\//,
    },
    {
      name: 'an unknown context',
      file: () => kubeconfig('ctx.kubeconfig', { token: 't' }),
      context: 'nope',
      message: /no context named "nope"/,
    },
  ];
  it.each(refused)('refuses $name, naming proxy.upstream.kubeconfig', ({ file, context, message }) => {
    let error: unknown;
    try {
      upstreamFromKubeconfig(file(), context, clock);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems[0]?.path).toBe('proxy.upstream.kubeconfig');
    expect((error as ConfigError).message).toMatch(message);
  });
});

describe('upstreamInCluster', () => {
  it('uses KUBERNETES_SERVICE_HOST/PORT and the mounted service account', () => {
    const sa = mkdtempSync(join(dir, 'sa-'));
    writeFileSync(join(sa, 'ca.crt'), CA);
    writeFileSync(join(sa, 'token'), 'sa-token\n');
    const target = upstreamInCluster({
      env: { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' },
      clock: new ManualClock(),
      serviceAccountDir: sa,
    });
    expect(target.url.origin).toBe('https://10.96.0.1');
    expect(target.ca).toBe(CA);
    expect(target.bearerToken()).toBe('sa-token');
    expect(target.clientCert).toBeUndefined();
  });

  it('says what is missing outside a pod', () => {
    expect(() => upstreamInCluster({ env: {}, clock: new ManualClock() })).toThrow(/not running in a pod/);
  });
});
