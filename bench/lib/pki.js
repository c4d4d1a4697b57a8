import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function openssl(dir, args) {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A one-day ECDSA P-256 CA in `dir` (ca.key, ca.crt) with this subject. */
export function createCA(dir, subject) {
  openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key']);
  openssl(dir, [
    'req',
    '-x509',
    '-new',
    '-key',
    'ca.key',
    '-sha256',
    '-days',
    '1',
    '-subj',
    subject,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign',
    '-out',
    'ca.crt',
  ]);
}

/** `name.key` and `name.crt` in `dir`: a one-day ECDSA P-256 certificate signed by the CA there. */
export function issueCert(dir, name, subject, extensions) {
  openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`]);
  openssl(dir, ['req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`]);
  writeFileSync(join(dir, `${name}.ext`), extensions.join('\n'));
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '1',
    '-sha256',
    '-extfile',
    `${name}.ext`,
    '-out',
    `${name}.crt`,
  ]);
}

/**
 * The verifier's production TLS shape for a benchmark run, made with the openssl CLI in `dir`: a CA,
 * a serving certificate for 127.0.0.1 and the apiserver's client certificate (ECDSA P-256). Returns
 * file paths and PEM texts.
 */
export function createBenchPKI(dir) {
  createCA(dir, '/CN=bench CA');
  issueCert(dir, 'verifier', '/CN=verifier', ['extendedKeyUsage=serverAuth', 'subjectAltName=IP:127.0.0.1']);
  issueCert(dir, 'kube-apiserver', '/CN=kube-apiserver', ['extendedKeyUsage=clientAuth']);
  const file = (name) => join(dir, name);
  const pem = (name) => readFileSync(file(name), 'utf8');
  return {
    caFile: file('ca.crt'),
    serverCertFile: file('verifier.crt'),
    serverKeyFile: file('verifier.key'),
    clientCertFile: file('kube-apiserver.crt'),
    clientKeyFile: file('kube-apiserver.key'),
    /** What a client (the apiserver) presents and trusts. */
    clientTLS: { ca: pem('ca.crt'), cert: pem('kube-apiserver.crt'), key: pem('kube-apiserver.key') },
  };
}
