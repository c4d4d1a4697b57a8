import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createMetrics, earliestNotAfter, recordCertificateExpiry } from '../../src/http/index.js';

/** kob_certificate_expiry_timestamp_seconds: the notAfter of what a server loaded, per role and kind. */

const dir = mkdtempSync(join(tmpdir(), 'kob-cert-expiry-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A self-signed certificate valid for `days`, and its notAfter as openssl prints it (epoch seconds). */
function selfSigned(name: string, days: number): { file: string; notAfter: number } {
  const file = join(dir, `${name}.crt`);
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
      ...['-keyout', join(dir, `${name}.key`), '-subj', `/CN=${name}`, '-days', String(days), '-out', file],
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const printed = execFileSync('openssl', ['x509', '-in', file, '-noout', '-enddate'], { encoding: 'utf8' });
  return { file, notAfter: Date.parse(printed.trim().replace(/^notAfter=/, '')) / 1000 };
}

async function gaugeValues(metrics: ReturnType<typeof createMetrics>) {
  const { values } = await metrics.certificateExpiry.get();
  return values.map((v) => ({ labels: v.labels, value: v.value }));
}

describe('certificate expiry', () => {
  it('one certificate: its notAfter, to the second, as openssl reads it', () => {
    const cert = selfSigned('single', 30);
    expect(earliestNotAfter(readFileSync(cert.file, 'utf8'))).toBe(cert.notAfter);
  });

  it('a bundle (CA rotation: old and new CA in one file): the earliest notAfter, whatever the order', () => {
    const soon = selfSigned('old-ca', 3);
    const later = selfSigned('new-ca', 400);
    const bundle = join(dir, 'bundle.crt');
    writeFileSync(bundle, readFileSync(later.file, 'utf8') + readFileSync(soon.file, 'utf8'));
    expect(earliestNotAfter(readFileSync(bundle, 'utf8'))).toBe(soon.notAfter);
  });

  it('text without a certificate is refused rather than read as "never expires"', () => {
    expect(() => earliestNotAfter('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n')).toThrow(
      /no PEM certificate/,
    );
  });

  it('sets the gauge per role and certificate kind; the proxy role uses the same helper', async () => {
    const serving = selfSigned('serving', 90);
    const clientCA = selfSigned('client-ca', 3650);
    const upstreamCA = selfSigned('upstream-ca', 365);
    const metrics = createMetrics({ defaultMetrics: false });
    recordCertificateExpiry(metrics, 'verifier', { serving: serving.file, client_ca: clientCA.file });
    recordCertificateExpiry(metrics, 'proxy', { upstream_ca: upstreamCA.file });
    expect(await gaugeValues(metrics)).toEqual([
      { labels: { role: 'verifier', certificate: 'serving' }, value: serving.notAfter },
      { labels: { role: 'verifier', certificate: 'client_ca' }, value: clientCA.notAfter },
      { labels: { role: 'proxy', certificate: 'upstream_ca' }, value: upstreamCA.notAfter },
    ]);
  });

  it('a file that cannot be read fails with the role, kind and file named', () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const missing = join(dir, 'missing.crt');
    expect(() => recordCertificateExpiry(metrics, 'proxy', { serving: missing })).toThrow(
      `cannot read the expiry of proxy serving certificate ${missing}`,
    );
  });
});
