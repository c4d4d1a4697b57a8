import { randomBytes } from 'node:crypto';
import { parseConfig } from '../config/index.js';
import { systemClock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { type RunningServices, startServices } from '../server/index.js';
import { createMemoryStore } from '../store/index.js';
import { type IdpUser, type LoopbackIdp, startLoopbackIdp } from './loopback-idp.js';

/**
 * The whole product in one process for trying it out: a demo upstream IdP (oidc-provider) with one
 * user, the issuer, and a verifier, on loopback ports, with the in-memory store. Every secret is
 * random per run. Only `kube-oidc-bridge demo` (and tests) use this; `serve` never does.
 */

export const DEMO_AUDIENCE = 'https://kubernetes.default.svc';
export const DEMO_CLUSTER = 'demo';

export interface DemoPorts {
  issuer: number;
  verifier: number;
  idp: number;
}

export interface RunningDemo {
  issuerURL: string;
  verifierURL: string;
  /** The verifier's TokenReview endpoint. */
  reviewURL: string;
  idpURL: string;
  idp: LoopbackIdp;
  user: { username: string; password: string; groups: string[] };
  services: RunningServices;
  close(): Promise<void>;
}

const HOST = '127.0.0.1';

function secret(): string {
  return randomBytes(32).toString('base64url');
}

/** The upstream the demo's issuer signs people in at (the demo IdP, or another one a test runs). */
export interface DemoUpstream {
  /** Upstream name: the sign-in route is `/login/<name>`. */
  name: string;
  displayName: string;
  issuer: string;
  clientID: string;
  clientSecret: string;
}

export interface DemoServices {
  issuerURL: string;
  verifierURL: string;
  /** The verifier's TokenReview endpoint. */
  reviewURL: string;
  services: RunningServices;
}

/** The issuer's public URL for a demo on `port`; its redirect URI is this plus `/callback`. */
export function demoIssuerURL(port: number): string {
  return `http://${HOST}:${port}`;
}

/**
 * The demo's issuer and verifier (memory store, demo mapping) against `upstream`, which must already
 * know the client and the redirect URI `demoIssuerURL(ports.issuer)/callback`.
 */
export async function startDemoServices(options: {
  ports: Omit<DemoPorts, 'idp'>;
  upstream: DemoUpstream;
  env: Record<string, string | undefined>;
  logger?: Logger;
}): Promise<DemoServices> {
  const { ports, upstream } = options;
  const publicURL = demoIssuerURL(ports.issuer);
  const config = parseConfig(
    {
      store: { memory: {} },
      // Plain HTTP on loopback so the printed curl example works without certificates; the verifier
      // logs its insecure-mode warning. Production verifiers require mTLS.
      verifier: { listen: `${HOST}:${ports.verifier}`, insecureHTTP: true, audiences: [DEMO_AUDIENCE] },
      issuer: {
        listen: `${HOST}:${ports.issuer}`,
        publicURL,
        cookieSecret: secret(),
        encryptionKey: secret(),
        clusters: [{ name: DEMO_CLUSTER, audience: DEMO_AUDIENCE, server: 'https://127.0.0.1:6443' }],
        upstreams: [
          {
            ...upstream,
            allowInsecureRequests: true,
            scopes: ['openid', 'email', 'profile', 'groups', 'offline_access'],
          },
        ],
      },
      mapping: {
        claimMappings: {
          username: { claim: 'email', prefix: '' },
          groups: { claim: 'groups', prefix: 'demo:' },
        },
      },
    },
    { env: options.env, baseDir: process.cwd() },
  );
  const services = await startServices(config, {
    env: options.env,
    ...(options.logger ? { logger: options.logger } : {}),
    store: createMemoryStore({ clock: systemClock }),
  });
  return {
    issuerURL: publicURL,
    verifierURL: services.verifierURL as string,
    reviewURL: `${services.verifierURL}${config.verifier?.path ?? '/authenticate'}`,
    services,
  };
}

export async function startDemo(options: {
  ports: DemoPorts;
  env: Record<string, string | undefined>;
  logger?: Logger;
}): Promise<RunningDemo> {
  const { ports } = options;
  const clientSecret = secret();
  const user: IdpUser = {
    username: 'demo',
    password: `demo-${randomBytes(6).toString('base64url')}`,
    email: 'demo@example.com',
    name: 'Demo User',
    groups: ['developers', 'viewers'],
  };
  const idp: LoopbackIdp = await startLoopbackIdp({
    host: HOST,
    port: ports.idp,
    users: [user],
    clients: [
      {
        clientId: 'kube-oidc-bridge-demo',
        clientSecret,
        redirectUris: [`${demoIssuerURL(ports.issuer)}/callback`],
      },
    ],
  });
  try {
    const demo = await startDemoServices({
      ports,
      upstream: {
        name: 'demo',
        displayName: 'Demo IdP',
        issuer: idp.issuer,
        clientID: 'kube-oidc-bridge-demo',
        clientSecret,
      },
      env: options.env,
      ...(options.logger ? { logger: options.logger } : {}),
    });
    return {
      ...demo,
      idpURL: idp.issuer,
      idp,
      user: { username: user.username, password: user.password, groups: user.groups ?? [] },
      close: async () => {
        await demo.services.close();
        await idp.close();
      },
    };
  } catch (err) {
    await idp.close();
    throw err;
  }
}
