import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { ConfigFileInput } from '../../src/config/index.js';
import { tokenReviewRequestBody } from '../support/apiserver-webhook-client.js';
import type { CertificateAuthority, CertWorkspace, IssuedCert } from '../support/certs.js';
import { type HttpAnswer, postRaw } from './https-post.js';

/** The audience of "this" cluster in every verifier test. */
export const CLUSTER_AUDIENCE = 'https://kubernetes.default.svc';

/** Certificates of a verifier deployment, plus the wrong ones a test needs. */
export interface VerifierPki {
  /** Signs the verifier's serving certificate (the webhook kubeconfig's certificate-authority). */
  serverCA: CertificateAuthority;
  server: IssuedCert;
  /** `verifier.tls.clientCA`: signs the apiserver's client certificate. */
  clientCA: CertificateAuthority;
  /** CN=kube-apiserver, the one allowed subject. */
  apiserver: IssuedCert;
  /** Same CA, another name: refused by allowedSubjects. */
  otherClient: IssuedCert;
  /** CN=kube-apiserver, but from a CA the verifier does not trust. */
  rogue: IssuedCert;
}

export function createVerifierPki(certs: CertWorkspace): VerifierPki {
  const serverCA = certs.createCA('verifier-serving');
  const clientCA = certs.createCA('apiserver-clients');
  const rogueCA = certs.createCA('rogue');
  return {
    serverCA,
    server: serverCA.issue({ commonName: 'verifier', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] }),
    clientCA,
    apiserver: clientCA.issue({ commonName: 'kube-apiserver', client: true }),
    otherClient: clientCA.issue({ commonName: 'some-other-client', client: true }),
    rogue: rogueCA.issue({ commonName: 'kube-apiserver', client: true }),
  };
}

/**
 * The configuration the verifier tests run: Redis store, mTLS with one allowed subject, a small body
 * limit, and mapping rules that exercise the system: guard, groupMap and a rule that can fail at
 * evaluation (`claims.nonexistent` is only read when department is "broken").
 */
export function verifierConfig(options: {
  redisUrl: string;
  pki: VerifierPki;
  listen?: string;
}): ConfigFileInput {
  const { pki } = options;
  return {
    store: { redis: { url: options.redisUrl, connectTimeout: 1, commandTimeout: 1 } },
    verifier: {
      listen: options.listen ?? '127.0.0.1:0',
      tls: {
        cert: pki.server.certFile,
        key: pki.server.keyFile,
        clientCA: pki.clientCA.certFile,
        allowedSubjects: ['kube-apiserver'],
      },
      audiences: [CLUSTER_AUDIENCE],
      maxBodyBytes: 4096,
    },
    mapping: {
      claimMappings: {
        username: { claim: 'email', prefix: '' },
        groups: { claim: 'groups', prefix: '' },
      },
      claimValidationRules: [
        {
          expression: '!has(claims.department) || claims.department != "broken" || claims.nonexistent == "x"',
          message: 'department rule',
        },
      ],
      groupMap: { 'platform-admins': ['system:masters'] },
    },
    logging: { level: 'info' },
  };
}

/** Writes the config as YAML into `dir` and returns its path (for the CLI). */
/**
 * POSTs a v1 TokenReview for `token`, as a 1.34+ apiserver sends it, to a verifier's `/authenticate`:
 * over mutual TLS with the apiserver's client certificate when the test PKI is given, else plain HTTP.
 */
export function postReview(
  verifierURL: string | undefined,
  token: string,
  pki?: VerifierPki,
  audiences: string[] = [CLUSTER_AUDIENCE],
): Promise<HttpAnswer> {
  if (!verifierURL) throw new Error('no verifier is running');
  const tls = pki ? { ca: pki.serverCA.cert, client: pki.apiserver } : {};
  return postRaw(`${verifierURL}/authenticate`, tokenReviewRequestBody('v1', 34, token, audiences), tls);
}

export function writeConfigFile(dir: string, config: ConfigFileInput, name = 'config.yaml'): string {
  const file = join(dir, name);
  writeFileSync(file, stringify(config));
  return file;
}
