import type { Page } from 'playwright-core';
import type { Logger } from '../../src/core/logger.js';
import { demoIssuerURL, startDemo, startDemoServices } from '../../src/demo/start-demo.js';
import type { RunningServices } from '../../src/server/index.js';
import { COMPOSE_DEMO_PASSWORD, readComposeDexConfig } from './compose-dex-config.js';
import { freePort } from './free-port.js';
import { startHydra, type TestHydra } from './hydra.js';

/**
 * The demo-shaped bridge (issuer + insecure-HTTP verifier on a memory store, usernames from `email`,
 * groups from `groups` prefixed `demo:`) in front of one real upstream OpenID Provider. The browser
 * e2e runs the same scenario and the same assertions in each world; only the IdP's own pages differ.
 * Both upstreams serve the same person: demo@example.com in groups developers and viewers.
 */
export interface LoginWorld {
  issuerURL: string;
  /** The verifier's TokenReview endpoint (plain HTTP). */
  reviewURL: string;
  services: RunningServices;
  /** The accessible name of the start page's link to this upstream. */
  upstreamLink: string;
  /** Fills in the IdP's own pages, from its sign-in form until it sends the browser back. */
  signInAtIdp(page: Page): Promise<void>;
  close(): Promise<void>;
}

/**
 * `kube-oidc-bridge demo` (what `npm start` runs): oidc-provider as the IdP. Every opaque artifact
 * the provider saves (code, access and refresh token ids) is handed to `onSecret`.
 */
export async function startDemoWorld(options: {
  logger: Logger;
  onSecret(secret: string): void;
}): Promise<LoginWorld> {
  const demo = await startDemo({
    ports: { issuer: await freePort(), verifier: await freePort(), idp: await freePort() },
    env: {},
    logger: options.logger,
  });
  for (const event of ['authorization_code.saved', 'access_token.saved', 'refresh_token.saved']) {
    demo.idp.provider.on(event, (artifact: { jti?: string }) => {
      if (artifact.jti) options.onSecret(artifact.jti);
    });
  }
  return {
    ...demo,
    upstreamLink: 'Sign in with Demo IdP',
    async signInAtIdp(page) {
      await page.getByLabel('Username').fill(demo.user.username);
      await page.getByLabel('Password').fill(demo.user.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
    },
  };
}

/**
 * ORY Hydra v2 as the upstream, serving docker-compose's identity world: the client id, secret and
 * redirect path, and the static user (email, bcrypt hash, groups) all come from the Dex config the
 * compose stack runs with, and the user signs in with the password the compose file documents.
 */
export async function startHydraWorld(options: {
  logger: Logger;
}): Promise<LoginWorld & { hydra: TestHydra }> {
  const dex = readComposeDexConfig();
  const [client] = dex.staticClients;
  const [user] = dex.staticPasswords;
  if (!client || !user) throw new Error('the compose Dex config has no static client or user');
  const ports = { issuer: await freePort(), verifier: await freePort() };
  const redirectPath = new URL(client.redirectURIs[0] as string).pathname;
  const hydra = await startHydra({ users: dex.staticPasswords });
  try {
    await hydra.registerClient({
      clientId: client.id,
      clientSecret: client.secret,
      redirectUris: [`${demoIssuerURL(ports.issuer)}${redirectPath}`],
    });
    const bridge = await startDemoServices({
      ports,
      upstream: {
        name: 'hydra',
        displayName: 'ORY Hydra',
        issuer: hydra.issuer,
        clientID: client.id,
        clientSecret: client.secret,
      },
      env: {},
      logger: options.logger,
    });
    return {
      ...bridge,
      hydra,
      upstreamLink: 'Sign in with ORY Hydra',
      async signInAtIdp(page) {
        await page.getByLabel('Email address').fill(user.email);
        await page.getByLabel('Password').fill(COMPOSE_DEMO_PASSWORD);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.getByRole('button', { name: 'Allow access' }).click();
      },
      async close() {
        await bridge.services.close();
        await hydra.close();
      },
    };
  } catch (err) {
    await hydra.close();
    throw err;
  }
}
