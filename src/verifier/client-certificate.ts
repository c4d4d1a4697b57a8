import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

/** Who is calling: the verified client certificate's subject CN and DNS SANs. */
export interface ClientIdentity {
  commonName?: string;
  dnsNames: string[];
}

function isTLSSocket(socket: Socket): socket is TLSSocket {
  return typeof (socket as Partial<TLSSocket>).getPeerCertificate === 'function';
}

/** Reads the peer certificate of an mTLS connection (undefined on plain HTTP or without a certificate). */
export function readClientIdentity(socket: Socket): ClientIdentity | undefined {
  if (!isTLSSocket(socket)) return undefined;
  const cert = socket.getPeerCertificate(false);
  if (!cert || Object.keys(cert).length === 0) return undefined;
  const cn = cert.subject?.CN as string | string[] | undefined;
  const dnsNames = (cert.subjectaltname ?? '')
    .split(', ')
    .filter((entry) => entry.startsWith('DNS:'))
    .map((entry) => entry.slice(4));
  return { commonName: Array.isArray(cn) ? cn[0] : cn, dnsNames };
}

/**
 * `verifier.tls.allowedSubjects`: the CA may sign more than the apiserver's certificate (a cluster
 * CA often does), so an admin can pin which names may ask for reviews. A name matches the subject
 * CN or any DNS SAN exactly.
 */
export function isSubjectAllowed(identity: ClientIdentity | undefined, allowed: readonly string[]): boolean {
  if (!identity) return false;
  if (identity.commonName !== undefined && allowed.includes(identity.commonName)) return true;
  return identity.dnsNames.some((name) => allowed.includes(name));
}
