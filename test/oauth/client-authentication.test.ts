import type { AddressInfo } from 'node:net';
import { Router } from '@koa/router';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/logger.js';
import { errorMiddleware } from '../../src/http/index.js';
import type { IssuerContext } from '../../src/issuer/index.js';
import { OAUTH_PATHS } from '../../src/issuer/oauth/issuer-identifier.js';
import { registerRevoke } from '../../src/issuer/oauth/revoke.js';
import { registerToken } from '../../src/issuer/oauth/token.js';

/**
 * How the token and revocation endpoints identify their one public client. The checks happen before
 * any store or token work (after the rate limit, which lets everything through here), so the
 * endpoints run with only the issuer's client id configured.
 */
const deps = {
  issuer: { cli: { clientID: 'kube-oidc-bridge' }, rateLimit: { tokenPerMinute: 1000 } },
  web: { rateLimiter: { check: async () => {} } },
} as unknown as IssuerContext;
let server: ReturnType<Koa['listen']>;
let base: string;

beforeAll(async () => {
  const app = new Koa();
  app.silent = true;
  app.use(errorMiddleware(createLogger({ level: 'silent' })));
  const router = new Router();
  registerToken(router, deps);
  registerRevoke(router, deps);
  app.use(router.routes());
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

function basic(user: string): string {
  return `Basic ${Buffer.from(`${user}:`).toString('base64')}`;
}

describe('client authentication at the token and revocation endpoints', () => {
  // Regression: a malformed percent-escape in the Basic user name threw URIError → 500 internal error.
  // RFC 6749 §5.2: a client that fails to authenticate gets 401 invalid_client.
  for (const path of [OAUTH_PATHS.token, OAUTH_PATHS.revoke]) {
    it(`answers 401 invalid_client at ${path} for a Basic user name that is not valid percent-encoding`, async () => {
      const res = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('%E0%A4%A') },
        body: 'grant_type=refresh_token&token=x',
      });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: 'invalid_client' });
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic /);
    });
  }

  it('refuses a Basic user name that differs from the client_id in the body', async () => {
    const res = await fetch(`${base}${OAUTH_PATHS.token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('other') },
      body: 'grant_type=refresh_token&client_id=kube-oidc-bridge',
    });
    expect(res.status).toBe(401);
  });

  it('accepts the client id from a percent-encoded Basic user name', async () => {
    const res = await fetch(`${base}${OAUTH_PATHS.token}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: basic('kube%2Doidc-bridge'),
      },
      body: 'grant_type=password',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'unsupported_grant_type' });
  });
});
