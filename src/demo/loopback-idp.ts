import { randomBytes, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import type Koa from 'koa';
import Provider from 'oidc-provider';
import { html, readFormBody, type SafeHtml } from '../issuer/index.js';

/**
 * A real OpenID Provider (oidc-provider, a certified implementation) on a loopback port, with a
 * username/password form and a fixed user list. It backs `kube-oidc-bridge demo` and the tests; it is
 * never part of `serve`.
 */

export interface IdpUser {
  username: string;
  password: string;
  /** `sub`; defaults to the username. */
  subject?: string;
  email?: string;
  name?: string;
  groups?: string[];
  /** Further claims, released with the `profile` scope. */
  claims?: Record<string, unknown>;
}

export interface IdpClient {
  clientId: string;
  clientSecret?: string;
  redirectUris: string[];
  tokenEndpointAuthMethod?: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none';
  /** Public keys for `private_key_jwt`. */
  jwks?: { keys: JWK[] };
}

export interface LoopbackIdpOptions {
  clients: IdpClient[];
  users: IdpUser[];
  /** Loopback address to bind; default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** Issue refresh tokens to clients allowed the grant, without requiring `offline_access`. Default true. */
  refreshTokens?: boolean;
  /** Runs before the provider on every request; tests use it to make the IdP misbehave. */
  intercept?: Koa.Middleware;
}

export interface LoopbackIdp {
  /** Issuer URL, e.g. `http://127.0.0.1:41234`. */
  issuer: string;
  provider: Provider;
  close(): Promise<void>;
}

/** Claims released per scope. `groups` goes into the ID token too (conformIdTokenClaims: false). */
const CLAIMS_BY_SCOPE = {
  openid: ['sub'],
  email: ['email', 'email_verified'],
  profile: ['name', 'preferred_username'],
  groups: ['groups'],
};

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function accountClaims(user: IdpUser): Record<string, unknown> {
  // A user whose groups are given by reference (`_claim_names`, as on Entra ID overage) has none inline.
  const names = user.claims?.['_claim_names'] as Record<string, unknown> | undefined;
  const byReference = user.groups === undefined && names?.['groups'] !== undefined;
  return {
    ...user.claims,
    sub: user.subject ?? user.username,
    preferred_username: user.username,
    name: user.name ?? user.username,
    ...(user.email ? { email: user.email, email_verified: true } : {}),
    ...(byReference ? {} : { groups: user.groups ?? [] }),
  };
}

function loginPage(uid: string, clientId: string, problem?: string): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in — test identity provider</title><link rel="icon" href="data:,">
<style>body{font-family:system-ui,sans-serif;max-width:26rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
label{display:block;margin-top:1rem;font-weight:600}input{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box}
button{margin-top:1.25rem;padding:.6rem 1.2rem;font-size:1rem}.problem{color:#a00000}</style></head>
<body><main>
<h1>Sign in</h1>
<p>Identity provider for testing and demos. Application: <strong>${clientId}</strong></p>
${problem ? html`<p class="problem" role="alert">${problem}</p>` : ''}
<form method="post" action="/interaction/${uid}/login">
<label for="username">Username</label><input id="username" name="username" autocomplete="username" required>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>
<form method="post" action="/interaction/${uid}/abort"><button type="submit">Cancel</button></form>
</main></body></html>`;
}

function interactionRoutes(provider: Provider, users: IdpUser[]): Koa.Middleware {
  return async (ctx, next) => {
    const match = /^\/interaction\/([A-Za-z0-9_-]+)(\/login|\/abort)?$/.exec(ctx.path);
    if (!match) return next();
    ctx.set('cache-control', 'no-store');
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const clientId = String(details.params['client_id'] ?? '');
    const finish = async (result: Parameters<Provider['interactionResult']>[2]) => {
      const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, {
        mergeWithLastSubmission: false,
      });
      ctx.redirect(returnTo);
      ctx.status = 303;
    };
    if (ctx.method === 'GET' && !match[2]) {
      ctx.type = 'html';
      ctx.body = loginPage(details.uid, clientId).value;
      return;
    }
    if (ctx.method !== 'POST') return next();
    if (match[2] === '/abort') {
      await finish({ error: 'access_denied', error_description: 'End-User aborted interaction' });
      return;
    }
    const form = await readFormBody(ctx.req);
    const user = users.find((u) => u.username === form.get('username'));
    if (!user || !sameSecret(user.password, form.get('password') ?? '')) {
      ctx.status = 401;
      ctx.type = 'html';
      ctx.body = loginPage(details.uid, clientId, 'Wrong username or password.').value;
      return;
    }
    const accountId = user.subject ?? user.username;
    // Consent is granted on the user's behalf: this provider exists to sign people in, not to ask.
    const grant = new provider.Grant({ accountId, clientId });
    grant.addOIDCScope(String(details.params['scope'] ?? 'openid'));
    const grantId = await grant.save();
    await finish({ login: { accountId }, consent: { grantId } });
  };
}

/** Starts the identity provider and resolves once it is listening. */
export async function startLoopbackIdp(options: LoopbackIdpOptions): Promise<LoopbackIdp> {
  const host = options.host ?? '127.0.0.1';
  let handler: ((...args: Parameters<Parameters<typeof createServer>[1] & {}>) => void) | undefined;
  const server: Server = createServer((req, res) => handler?.(req, res));
  server.listen(options.port ?? 0, host);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const issuer = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig', kid: 'idp-1' };
  const users = options.users;
  const provider = new Provider(issuer, {
    clients: options.clients.map((c) => ({
      client_id: c.clientId,
      ...(c.clientSecret ? { client_secret: c.clientSecret } : {}),
      redirect_uris: c.redirectUris,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: c.tokenEndpointAuthMethod ?? 'client_secret_basic',
      ...(c.jwks ? { jwks: c.jwks } : {}),
    })),
    claims: CLAIMS_BY_SCOPE,
    scopes: ['openid', 'offline_access', 'email', 'profile', 'groups'],
    // Puts `groups` (and the other scope claims) into the ID token, as Dex and Keycloak do.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(g: string): boolean }) =>
      (options.refreshTokens ?? true) && client.grantTypeAllowed('refresh_token'),
    findAccount: async (_ctx: unknown, id: string) => {
      const user = users.find((u) => (u.subject ?? u.username) === id);
      return user ? { accountId: id, claims: () => accountClaims(user) } : undefined;
    },
    jwks: { keys: [signingKey] },
    // Explicit lifetimes (seconds): short, like a real IdP's, and oidc-provider stops nagging about defaults.
    ttl: {
      AccessToken: 600,
      AuthorizationCode: 60,
      IdToken: 600,
      Interaction: 600,
      Grant: 86_400,
      Session: 86_400,
      RefreshToken: 86_400,
    },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
  });
  if (options.intercept) provider.use(options.intercept);
  provider.use(interactionRoutes(provider, users));
  handler = provider.callback();

  return {
    issuer,
    provider,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
