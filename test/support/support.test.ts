import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { createCertWorkspace } from './certs.js';
import { startTestRedis } from './redis-server.js';

describe('test support', () => {
  const certs = createCertWorkspace();
  afterAll(() => certs.dispose());

  it('issues a server certificate that verifies against its CA and not another', () => {
    const ca = certs.createCA('support');
    const other = certs.createCA('other');
    const leaf = ca.issue({ commonName: 'verifier', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    const ok = execFileSync('openssl', ['verify', '-CAfile', ca.certFile, leaf.certFile]).toString();
    expect(ok).toContain(': OK');
    expect(() =>
      execFileSync('openssl', ['verify', '-CAfile', other.certFile, leaf.certFile], { stdio: 'pipe' }),
    ).toThrow();
  });

  it('runs a private redis-server that can be stopped and started again on the same port', async () => {
    const redis = await startTestRedis();
    try {
      expect(await redis.command('SET', 'k', 'v')).toBe('+OK\r\n');
      await redis.stop();
      await expect(redis.command('PING')).rejects.toThrow();
      await redis.start();
      expect(await redis.command('PING')).toBe('+PONG\r\n');
    } finally {
      await redis.close();
    }
  });
});
