import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Metrics } from './metrics.js';

/** Which server holds the certificate (the `role` label). */
export type CertificateRole = 'verifier' | 'proxy';

/**
 * Which certificate it is (the `certificate` label): the one the server presents, the CA its clients'
 * certificates must chain to, or the CA it trusts for the server it forwards to.
 */
export type CertificateKind = 'serving' | 'client_ca' | 'upstream_ca';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * The earliest `notAfter` of the certificates in a PEM text, in epoch seconds. A bundle (a chain, or
 * a CA file holding the old and the new CA during a rotation) stops working for someone when its
 * first certificate expires, so that is the date to watch. Throws when the text holds no certificate.
 */
export function earliestNotAfter(pem: string): number {
  const blocks = pem.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new Error('no PEM certificate found');
  // X509Certificate#validTo is "Mon DD HH:MM:SS YYYY GMT" (Node 20 has no validToDate).
  return Math.min(...blocks.map((block) => Date.parse(new X509Certificate(block).validTo) / 1000));
}

/**
 * Sets `kob_certificate_expiry_timestamp_seconds{role, certificate}` from the PEM files a server
 * loaded. Servers read their certificates once at start, so this runs once at start too: after a
 * renewal the gauge keeps the old date until the process restarts, exactly like the served
 * certificate (which is what an operator needs to see).
 */
export function recordCertificateExpiry(
  metrics: Metrics,
  role: CertificateRole,
  files: Partial<Record<CertificateKind, string>>,
): void {
  for (const [certificate, file] of Object.entries(files)) {
    if (file === undefined) continue;
    let notAfter: number;
    try {
      notAfter = earliestNotAfter(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new Error(`cannot read the expiry of ${role} ${certificate} certificate ${file}`, { cause: err });
    }
    metrics.certificateExpiry.set({ role, certificate }, notAfter);
  }
}
