import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A PEM key pair on disk (paths) and in memory (strings). */
export interface IssuedCert {
  certFile: string;
  keyFile: string;
  cert: string;
  key: string;
}

export interface CertificateAuthority extends IssuedCert {
  /** Issues a leaf certificate signed by this CA. */
  issue(options: {
    commonName: string;
    dnsNames?: string[];
    ipAddresses?: string[];
    client?: boolean;
    /** Subject O= values: the groups a kube-apiserver reads from a client certificate. */
    organizations?: string[];
  }): IssuedCert;
}

/** A folder of throwaway certificates made with the openssl CLI; `dispose()` removes it. */
export interface CertWorkspace {
  dir: string;
  createCA(name: string): CertificateAuthority;
  dispose(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Creates a workspace for test PKI: CAs, server certificates with SANs, client certificates. */
export function createCertWorkspace(): CertWorkspace {
  const dir = mkdtempSync(join(tmpdir(), 'kob-certs-'));
  let serial = 0;
  return {
    dir,
    createCA(name) {
      const keyFile = join(dir, `${name}-ca.key`);
      const certFile = join(dir, `${name}-ca.crt`);
      openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', keyFile], dir);
      openssl(
        [
          'req',
          '-x509',
          '-new',
          '-key',
          keyFile,
          '-sha256',
          '-days',
          '2',
          '-subj',
          `/CN=${name} test CA`,
          '-addext',
          'basicConstraints=critical,CA:TRUE',
          '-addext',
          'keyUsage=critical,keyCertSign,cRLSign',
          '-out',
          certFile,
        ],
        dir,
      );
      return {
        certFile,
        keyFile,
        cert: readFileSync(certFile, 'utf8'),
        key: readFileSync(keyFile, 'utf8'),
        issue({ commonName, dnsNames = [], ipAddresses = [], client = false, organizations = [] }) {
          serial += 1;
          const base = join(dir, `${name}-${serial}`);
          const leafKey = `${base}.key`;
          const csr = `${base}.csr`;
          const leafCert = `${base}.crt`;
          const ext = `${base}.ext`;
          const san = [...dnsNames.map((d) => `DNS:${d}`), ...ipAddresses.map((ip) => `IP:${ip}`)];
          writeFileSync(
            ext,
            [
              'basicConstraints=critical,CA:FALSE',
              'keyUsage=critical,digitalSignature,keyEncipherment',
              `extendedKeyUsage=${client ? 'clientAuth' : 'serverAuth'}`,
              ...(san.length > 0 ? [`subjectAltName=${san.join(',')}`] : []),
            ].join('\n'),
          );
          openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', leafKey], dir);
          const subject = `${organizations.map((o) => `/O=${o}`).join('')}/CN=${commonName}`;
          openssl(['req', '-new', '-key', leafKey, '-subj', subject, '-out', csr], dir);
          openssl(
            [
              'x509',
              '-req',
              '-in',
              csr,
              '-CA',
              certFile,
              '-CAkey',
              keyFile,
              '-set_serial',
              String(1000 + serial),
              '-days',
              '2',
              '-sha256',
              '-extfile',
              ext,
              '-out',
              leafCert,
            ],
            dir,
          );
          return {
            certFile: leafCert,
            keyFile: leafKey,
            cert: readFileSync(leafCert, 'utf8'),
            key: readFileSync(leafKey, 'utf8'),
          };
        },
      };
    },
    dispose() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
