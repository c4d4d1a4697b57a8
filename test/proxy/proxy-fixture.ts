import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { stringify } from 'yaml';
import type { ConfigFileInput } from '../../src/config/index.js';
import type { CertificateAuthority, CertWorkspace, IssuedCert } from '../support/certs.js';

/** The proxied cluster's audience in the proxy tests. */
export const PROXY_AUDIENCE = 'https://prod.example.com';

export interface ProxyPki {
  /** Signs the proxy's serving certificate (the CA users' kubeconfigs carry). */
  proxyCA: CertificateAuthority;
  proxyServing: IssuedCert;
  /** Signs the upstream's serving certificate and client certificates it accepts. */
  upstreamCA: CertificateAuthority;
  /** The proxy's own client certificate at the upstream. */
  proxyClient: IssuedCert;
}

export function createProxyPki(certs: CertWorkspace): ProxyPki {
  const proxyCA = certs.createCA('proxy-serving');
  const upstreamCA = certs.createCA('upstream');
  return {
    proxyCA,
    proxyServing: proxyCA.issue({ commonName: 'proxy', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] }),
    upstreamCA,
    proxyClient: upstreamCA.issue({ commonName: 'kob-proxy', client: true }),
  };
}

/** A kubeconfig for the proxy's upstream: the server, its CA and a client certificate or a token. */
export function writeUpstreamKubeconfig(
  dir: string,
  options: { server: string; ca: string; client?: IssuedCert; token?: string; name?: string },
): string {
  const user: Record<string, string> = {};
  if (options.client) {
    user['client-certificate-data'] = Buffer.from(options.client.cert).toString('base64');
    user['client-key-data'] = Buffer.from(options.client.key).toString('base64');
  }
  if (options.token) user.token = options.token;
  const file = join(dir, options.name ?? 'upstream.kubeconfig');
  writeFileSync(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'upstream',
          cluster: {
            server: options.server,
            'certificate-authority-data': Buffer.from(options.ca).toString('base64'),
          },
        },
      ],
      users: [{ name: 'proxy', user }],
      contexts: [{ name: 'upstream', context: { cluster: 'upstream', user: 'proxy' } }],
      'current-context': 'upstream',
    }),
  );
  return file;
}

/**
 * A proxy-only configuration: Redis store, mapping that yields a username, groups (one through
 * groupMap), a uid and an extra key whose name needs percent-encoding in a header.
 */
export function proxyConfig(options: {
  redisUrl: string;
  pki: ProxyPki;
  kubeconfig: string;
  tokenPassthrough?: boolean;
}): ConfigFileInput {
  return {
    store: { redis: { url: options.redisUrl, connectTimeout: 1, commandTimeout: 1 } },
    proxy: {
      listen: '127.0.0.1:0',
      tls: { cert: options.pki.proxyServing.certFile, key: options.pki.proxyServing.keyFile },
      audiences: [PROXY_AUDIENCE],
      upstream: { kubeconfig: options.kubeconfig, connectTimeout: 2 },
      tokenPassthrough: options.tokenPassthrough ?? false,
    },
    mapping: {
      claimMappings: {
        username: { claim: 'email', prefix: '' },
        groups: { claim: 'groups', prefix: 'oidc:' },
        uid: { claim: 'sub' },
        extra: [{ key: 'example.com/team', valueExpression: 'claims.teams' }],
      },
      groupMap: { 'cluster-viewers': ['viewers'] },
    },
    logging: { level: 'info' },
  };
}

/** The answer to a raw request: the status line's code and the whole text received. */
export interface RawAnswer {
  status: number;
  text: string;
}

/**
 * Writes `bytes` as they are onto a TLS connection to the proxy (no HTTP client in between, so header
 * shapes a client library would refuse to produce can be sent) and collects what comes back until the
 * connection closes or `settleMs` pass without data.
 */
export function sendRaw(url: string, ca: string, bytes: string, settleMs = 1500): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: hostname, port: Number(port), ca, servername: 'localhost' });
    let text = '';
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text });
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(finish, settleMs);
    };
    socket.on('secureConnect', () => {
      socket.write(bytes);
      arm();
    });
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      arm();
    });
    socket.on('close', finish);
    socket.on('error', (err) => (text === '' ? reject(err) : finish()));
  });
}
