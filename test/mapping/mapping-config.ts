import { type Config, parseConfig } from '../../src/config/index.js';

/** An upstream of the test issuer, optionally with its own mapping rules. */
export interface TestUpstream {
  name: string;
  mapping?: unknown;
}

/**
 * A complete, valid configuration around the mapping rules under test: a verifier, and an issuer only when
 * upstreams are given (their per-upstream rules are part of the mapping set).
 */
export function configWithMapping(mapping: unknown, upstreams: TestUpstream[] = []): Config {
  return parseConfig(configObject(mapping, upstreams), { env: {}, baseDir: process.cwd() });
}

/** The raw configuration object (as a YAML file would hold it). */
export function configObject(mapping: unknown, upstreams: TestUpstream[] = []): Record<string, unknown> {
  const config: Record<string, unknown> = {
    store: { memory: {} },
    verifier: { insecureHTTP: true, audiences: ['https://kubernetes.default.svc'] },
  };
  if (mapping !== undefined) config['mapping'] = mapping;
  if (upstreams.length > 0) {
    config['issuer'] = {
      publicURL: 'https://login.example.com',
      cookieSecret: 'cookie-secret-cookie-secret-cookie-secret',
      encryptionKey: 'encryption-key-encryption-key-encryption',
      clusters: [{ name: 'prod', audience: 'https://kubernetes.default.svc' }],
      upstreams: upstreams.map(({ name, mapping: own }) => ({
        name,
        issuer: `https://${name}.idp.example.com`,
        clientID: 'kube-oidc-bridge',
        clientSecret: 'upstream-client-secret',
        ...(own === undefined ? {} : { mapping: own }),
      })),
    };
  }
  return config;
}
