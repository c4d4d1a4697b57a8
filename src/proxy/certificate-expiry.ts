import { X509Certificate } from 'node:crypto';

/**
 * notAfter of the first certificate in a PEM text, in epoch seconds; undefined when it does not parse
 * (the TLS layer reports that more usefully).
 */
export function certificateNotAfter(pem: string | Buffer): number | undefined {
  try {
    const seconds = Date.parse(new X509Certificate(pem).validTo) / 1000;
    return Number.isFinite(seconds) ? seconds : undefined;
  } catch {
    return undefined;
  }
}
