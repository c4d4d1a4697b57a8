import type Koa from 'koa';
import { isBridgeError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { PROBLEM_BY_CODE, type ProblemKind, problemReference } from '../error-table.js';
import { html, type SafeHtml } from '../web/html.js';
import { renderPage } from '../web/layout.js';

export type { ProblemKind } from '../error-table.js';

const START_AGAIN = html`<p><a class="button" href="/">Start again</a></p>`;
const RUN_AGAIN = html`Run <code>kube-oidc-bridge login</code> (or any kubectl command) again`;

/** What `/oauth2/authorize` says when it stops a request before any redirect (RFC 6749 §4.1.2.1). */
function notFromOurCli(reason: string): SafeHtml {
  return html`<p>This login request did not come from a kube-oidc-bridge command line
on this computer, so it was stopped here. ${reason}.</p>
<p>${RUN_AGAIN} to start a new login.</p>`;
}

/** The words of each problem page: what happened and what to do next. Statuses: error-table.ts. */
const PROBLEMS: Record<ProblemKind, { title: string; body: SafeHtml; reference?: boolean }> = {
  cancelled: {
    title: 'Sign-in cancelled',
    body: html`<p>The sign-in was cancelled at your identity provider, so no token was issued.</p>${START_AGAIN}`,
  },
  'idp-error': {
    title: 'Sign-in did not complete',
    body: html`<p>Your identity provider reported a problem, or could not be reached. Try again in a moment.
If it keeps happening, tell your administrator and give them the reference below.</p>${START_AGAIN}`,
    reference: true,
  },
  'login-expired': {
    title: 'This sign-in has expired',
    body: html`<p>A sign-in works once, for a few minutes, and only in the browser where it started. This one
was already used, took too long, or came from another browser. Start a new sign-in.</p>${START_AGAIN}`,
  },
  refused: {
    title: 'Your account has no access here',
    body: html`<p>You signed in successfully, but the access rules of this cluster do not accept your account.
Ask your administrator for access and give them the reference below.</p>`,
    reference: true,
  },
  'rate-limited': {
    title: 'Too many attempts',
    body: html`<p>There were too many sign-in attempts from your network. Wait a minute, then start again.</p>${START_AGAIN}`,
  },
  unavailable: {
    title: 'Sign-in is temporarily unavailable',
    body: html`<p>The service cannot complete sign-ins right now. Try again in a minute.</p>${START_AGAIN}`,
    reference: true,
  },
  'unknown-upstream': {
    title: 'Unknown sign-in option',
    body: html`<p>That sign-in option does not exist. Choose one on the start page.</p>${START_AGAIN}`,
  },
  'bad-request': {
    title: 'Request not accepted',
    body: html`<p>The form was out of date or incomplete. Go back, reload the page and try again.</p>${START_AGAIN}`,
  },
  'form-forbidden': {
    title: 'Request not accepted',
    body: html`<p>The form was out of date, or was sent from another site. Go back, reload the page and try
again.</p>${START_AGAIN}`,
  },
  internal: {
    title: 'Something went wrong',
    body: html`<p>The service hit an unexpected error. Try again; if it keeps happening, tell your administrator
and give them the reference below.</p>${START_AGAIN}`,
    reference: true,
  },
  'unknown-client': {
    title: 'Login request not accepted',
    body: notFromOurCli('The client is unknown'),
  },
  'bad-redirect-uri': {
    title: 'Login request not accepted',
    body: notFromOurCli('Its return address is not allowed'),
  },
  'authorization-expired': {
    title: 'This login has expired',
    body: html`<p>The command line's login request was already used, took too long, or its link was
incomplete. ${RUN_AGAIN}.</p>`,
  },
  'device-code-expired': {
    title: 'This code has expired',
    body: html`<p>The device sign-in was already finished, denied, or took too long.
Start again in your terminal.</p>`,
  },
  'unknown-user-code': {
    title: 'Unknown code',
    body: html`<p>That code is not valid or has expired. Check it against your terminal, or start again there.</p>`,
  },
};

/** The explanation of a problem, for a page that shows it next to a form (the device page). */
export function problemText(kind: ProblemKind): SafeHtml {
  return PROBLEMS[kind].body;
}

/**
 * Renders the page for a failed browser step. Shows no internal detail: only, where an admin may need
 * to look, a random reference that also appears in the log line about the failure.
 */
export function renderProblemPage(ctx: Koa.Context, kind: ProblemKind, reference?: string): void {
  const problem = PROBLEMS[kind];
  renderPage(ctx, {
    problem: kind,
    title: problem.title,
    main: html`<div class="notice problem">${problem.body}</div>
${problem.reference && reference ? html`<p class="muted">Reference: <code>${reference}</code></p>` : ''}`,
  });
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
      const kind = (isBridgeError(err) && PROBLEM_BY_CODE[err.code]) || 'internal';
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
