import type Koa from 'koa';
import { type ErrorCode, isBridgeError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { randomId } from '../../core/token-format.js';
import { html, type SafeHtml } from '../web/html.js';
import { renderPage } from '../web/layout.js';

/** Every way a sign-in can end without a token, each with what to do next. */
export type ProblemKind =
  | 'cancelled'
  | 'idp-error'
  | 'login-expired'
  | 'refused'
  | 'rate-limited'
  | 'unavailable'
  | 'unknown-upstream'
  | 'bad-request'
  | 'internal';

const START_AGAIN = html`<p><a class="button" href="/">Start again</a></p>`;

const PROBLEMS: Record<ProblemKind, { status: number; title: string; body: SafeHtml; reference?: boolean }> =
  {
    cancelled: {
      status: 400,
      title: 'Sign-in cancelled',
      body: html`<p>The sign-in was cancelled at your identity provider, so no token was issued.</p>${START_AGAIN}`,
    },
    'idp-error': {
      status: 502,
      title: 'Sign-in did not complete',
      body: html`<p>Your identity provider reported a problem, or could not be reached. Try again in a moment.
If it keeps happening, tell your administrator and give them the reference below.</p>${START_AGAIN}`,
      reference: true,
    },
    'login-expired': {
      status: 400,
      title: 'This sign-in has expired',
      body: html`<p>A sign-in works once, for a few minutes, and only in the browser where it started. This one
was already used, took too long, or came from another browser. Start a new sign-in.</p>${START_AGAIN}`,
    },
    refused: {
      status: 403,
      title: 'Your account has no access here',
      body: html`<p>You signed in successfully, but the access rules of this cluster do not accept your account.
Ask your administrator for access and give them the reference below.</p>`,
      reference: true,
    },
    'rate-limited': {
      status: 429,
      title: 'Too many attempts',
      body: html`<p>There were too many sign-in attempts from your network. Wait a minute, then start again.</p>${START_AGAIN}`,
    },
    unavailable: {
      status: 503,
      title: 'Sign-in is temporarily unavailable',
      body: html`<p>The service cannot complete sign-ins right now. Try again in a minute.</p>${START_AGAIN}`,
      reference: true,
    },
    'unknown-upstream': {
      status: 404,
      title: 'Unknown sign-in option',
      body: html`<p>That sign-in option does not exist. Choose one on the start page.</p>${START_AGAIN}`,
    },
    'bad-request': {
      status: 400,
      title: 'Request not accepted',
      body: html`<p>The form was out of date or incomplete. Go back, reload the page and try again.</p>${START_AGAIN}`,
    },
    internal: {
      status: 500,
      title: 'Something went wrong',
      body: html`<p>The service hit an unexpected error. Try again; if it keeps happening, tell your administrator
and give them the reference below.</p>${START_AGAIN}`,
      reference: true,
    },
  };

/**
 * Renders the page for a failed sign-in. Shows no internal detail: only, where an admin may need to
 * look, a random reference that also appears in the log line about the failure.
 */
export function renderProblemPage(ctx: Koa.Context, kind: ProblemKind, reference?: string): void {
  const problem = PROBLEMS[kind];
  if (kind === 'rate-limited' || kind === 'unavailable') ctx.set('Retry-After', '60');
  renderPage(ctx, {
    status: problem.status,
    title: problem.title,
    main: html`<div class="notice problem">${problem.body}</div>
${problem.reference && reference ? html`<p class="muted">Reference: <code>${reference}</code></p>` : ''}`,
  });
}

const KIND_BY_CODE: Partial<Record<ErrorCode, ProblemKind>> = {
  ERR_OAUTH: 'idp-error',
  ERR_UPSTREAM: 'idp-error',
  ERR_SESSION_ENDED: 'login-expired',
  ERR_RATE_LIMITED: 'rate-limited',
  ERR_STORE_UNAVAILABLE: 'unavailable',
  ERR_NOT_FOUND: 'unknown-upstream',
  ERR_INPUT_INVALID: 'bad-request',
};

/** A fresh reference to quote on a problem page and in the matching log line. */
export function problemReference(): string {
  return randomId(6);
}

/**
 * Middleware for HTML routes: an error thrown below becomes the matching problem page (never a stack
 * trace or an upstream's message), logged once with a reference the page shows.
 */
export function problemPages(logger: Logger): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      const kind = (isBridgeError(err) && KIND_BY_CODE[err.code]) || 'internal';
      const reference = problemReference();
      // A rate-limit refusal is counted (kob_rate_limited_total), not logged per request: a flood
      // must not flood the logs too.
      const level =
        kind === 'internal' || kind === 'unavailable' || kind === 'idp-error'
          ? 'error'
          : kind === 'rate-limited'
            ? 'debug'
            : 'warn';
      logger[level]({ err, reference, method: ctx.method, path: ctx.path }, `page request failed: ${kind}`);
      renderProblemPage(ctx, kind, reference);
    }
  };
}
