import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import bcrypt from 'bcryptjs';
import { html, readFormBody, type SafeHtml } from '../../src/issuer/index.js';
import type { StaticPassword } from './compose-dex-config.js';
import type { HttpBrowser } from './oidc-provider.js';

/**
 * The login and consent app ORY Hydra delegates to (Hydra keeps no users): a sign-in form checked
 * against Dex-style static users (email + bcrypt hash), then a consent page that grants the requested
 * scopes and puts the scope's claims in the ID token, the way Dex does (`email`, `email_verified`,
 * `name`, `preferred_username`, `groups`). It talks to Hydra's admin API only.
 *
 * @see https://www.ory.sh/docs/hydra/guides/custom-ui-oauth2 (the login and consent flow)
 */

export interface LoginConsentApp {
  /** `http://127.0.0.1:PORT`; Hydra's `urls.login` is `${url}/login`, `urls.consent` `${url}/consent`. */
  url: string;
  close(): Promise<void>;
}

interface ChallengeRequest {
  challenge: string;
  skip: boolean;
  subject: string;
  client: { client_id: string };
  requested_scope: string[];
  requested_access_token_audience: string[];
}

const STYLE = html`<style>body{font-family:system-ui,sans-serif;max-width:26rem;margin:2rem auto;padding:0 1rem}
label{display:block;margin-top:1rem;font-weight:600}input{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box}
button{margin-top:1.25rem;padding:.6rem 1.2rem;font-size:1rem}.problem{color:#a00000}</style>`;

function page(title: string, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} — ORY Hydra test login</title><link rel="icon" href="data:,">${STYLE}</head>
<body><main><h1>${title}</h1>${body}</main></body></html>`.value;
}

function loginForm(challenge: string, clientId: string, problem?: string): string {
  return page(
    'Sign in',
    html`<p>Application: <strong>${clientId}</strong></p>
${problem ? html`<p class="problem" role="alert">${problem}</p>` : ''}
<form method="post" action="/login">
<input type="hidden" name="challenge" value="${challenge}">
<label for="email">Email address</label><input id="email" name="email" autocomplete="username" required>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>`,
  );
}

function consentForm(request: ChallengeRequest): string {
  return page(
    'Allow access',
    html`<p><strong>${request.client.client_id}</strong> asks for:</p>
<ul>${request.requested_scope.map((scope) => html`<li>${scope}</li>`)}</ul>
<form method="post" action="/consent">
<input type="hidden" name="challenge" value="${request.challenge}">
<button type="submit" name="decision" value="allow">Allow access</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>`,
  );
}

/** ID token claims per granted scope, as Dex releases them for a static password user. */
function claimsFor(user: StaticPassword, scopes: string[]): Record<string, unknown> {
  return {
    ...(scopes.includes('email') ? { email: user.email, email_verified: true } : {}),
    ...(scopes.includes('profile')
      ? { name: user.username, preferred_username: user.preferredUsername ?? user.username }
      : {}),
    ...(scopes.includes('groups') ? { groups: user.groups } : {}),
  };
}

export async function startLoginConsentApp(options: {
  /** Hydra's admin API, e.g. `http://127.0.0.1:4445`. */
  adminURL: string;
  users: StaticPassword[];
}): Promise<LoginConsentApp> {
  async function admin<T>(method: 'GET' | 'PUT', path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${options.adminURL}/admin/oauth2/auth/requests/${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!response.ok) throw new Error(`Hydra admin ${method} ${path}: ${response.status}`);
    return (await response.json()) as T;
  }
  const challenge = (kind: 'login' | 'consent', value: string) =>
    `${kind}_challenge=${encodeURIComponent(value)}`;
  /** Sends the browser back to Hydra; only to an http(s) URL Hydra gave us. */
  function redirect(res: ServerResponse, to: { redirect_to: string }): void {
    const target = new URL(to.redirect_to);
    if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new Error('bad redirect_to');
    res.writeHead(303, { location: target.href, 'cache-control': 'no-store' }).end();
  }
  function show(res: ServerResponse, status: number, body: string): void {
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(body);
  }

  async function login(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (req.method === 'GET') {
      const id = url.searchParams.get('login_challenge') ?? '';
      const request = await admin<ChallengeRequest>('GET', `login?${challenge('login', id)}`);
      // Hydra already knows the user (remembered session): nothing to ask.
      if (request.skip) {
        redirect(
          res,
          await admin('PUT', `login/accept?${challenge('login', id)}`, { subject: request.subject }),
        );
        return;
      }
      show(res, 200, loginForm(request.challenge, request.client.client_id));
      return;
    }
    const form = await readFormBody(req);
    const id = form.get('challenge') ?? '';
    const request = await admin<ChallengeRequest>('GET', `login?${challenge('login', id)}`);
    const user = options.users.find((u) => u.email === form.get('email'));
    // Compare against a hash even for an unknown user, so timing does not tell which emails exist.
    const hash = user?.hash ?? options.users[0]?.hash ?? '';
    const ok = (await bcrypt.compare(form.get('password') ?? '', hash)) && user !== undefined;
    if (!ok) {
      show(res, 401, loginForm(request.challenge, request.client.client_id, 'Wrong email or password.'));
      return;
    }
    redirect(res, await admin('PUT', `login/accept?${challenge('login', id)}`, { subject: user.userID }));
  }

  async function consent(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const form = req.method === 'POST' ? await readFormBody(req) : undefined;
    const id = (form ? form.get('challenge') : url.searchParams.get('consent_challenge')) ?? '';
    const request = await admin<ChallengeRequest>('GET', `consent?${challenge('consent', id)}`);
    if (!form && !request.skip) {
      show(res, 200, consentForm(request));
      return;
    }
    if (form?.get('decision') !== 'allow' && !request.skip) {
      const body = { error: 'access_denied', error_description: 'The user denied access.' };
      redirect(res, await admin('PUT', `consent/reject?${challenge('consent', id)}`, body));
      return;
    }
    const user = options.users.find((u) => u.userID === request.subject);
    if (!user) throw new Error('consent for an unknown subject');
    redirect(
      res,
      await admin('PUT', `consent/accept?${challenge('consent', id)}`, {
        grant_scope: request.requested_scope,
        grant_access_token_audience: request.requested_access_token_audience,
        session: { id_token: claimsFor(user, request.requested_scope) },
      }),
    );
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://login-consent.invalid');
    const route = url.pathname === '/login' ? login : url.pathname === '/consent' ? consent : undefined;
    if (!route || (req.method !== 'GET' && req.method !== 'POST')) {
      res.writeHead(404).end();
      return;
    }
    route(req, res, url).catch((err: unknown) => {
      if (!res.headersSent) show(res, 500, page('Error', html`<p>${String(err)}</p>`));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function challengeOn(page: string): string {
  const match = /name="challenge" value="([^"]+)"/.exec(page);
  if (!match?.[1]) throw new Error('no challenge on the page');
  return match[1].replace(/&amp;/g, '&');
}

/**
 * A person at the app's pages, over HTTP without Chromium: from `startUrl` (the issuer's login or
 * authorization URL) to the sign-in form, then the consent page (answered with `decision`), following
 * every redirect. Returns where the browser ended up; stops early at a page that is not the next step.
 */
export async function signInThroughHydra(
  browser: HttpBrowser,
  startUrl: string,
  user: { email: string; password: string },
  decision: 'allow' | 'deny' = 'allow',
): Promise<{ response: Response; url: string; body: string }> {
  const toLogin = await browser.follow(startUrl);
  let body = await toLogin.response.text();
  const app = new URL(toLogin.url);
  if (app.pathname !== '/login') return { ...toLogin, body };
  const login = await browser.submitForm(`${app.origin}/login`, {
    challenge: challengeOn(body),
    email: user.email,
    password: user.password,
  });
  body = await login.response.text();
  if (new URL(login.url).pathname !== '/consent' || login.response.status !== 200) return { ...login, body };
  const done = await browser.submitForm(`${app.origin}/consent`, { challenge: challengeOn(body), decision });
  return { ...done, body: await done.response.text() };
}
