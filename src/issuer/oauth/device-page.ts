import type { Router } from '@koa/router';
import type Koa from 'koa';
import type { IssuerContext } from '../issuer-context.js';
import { recordDeviceStep } from '../login/login-instruments.js';
import { sendToUpstream } from '../login/login-routes.js';
import type { FoundDevice } from '../models/device-grant.js';
import { problemText, renderProblemPage } from '../pages/problem-page.js';
import { readFormBody } from '../web/form-body.js';
import { html } from '../web/html.js';
import { renderPage } from '../web/layout.js';
import { decideDevice, lookUpUserCode, type UserCodeLookup } from './device-confirmation.js';
import { OAUTH_PATHS } from './issuer-identifier.js';

/**
 * The /device page (RFC 8628 §3.3): the person types the code their terminal shows, sees which client
 * asks, for which cluster, from where and when, and only then approves (and signs in upstream) or
 * denies (device-confirmation.ts). Every form carries a CSRF token: a malicious page must not approve
 * a code for you (§5.4).
 */

/** Longest typed code shown back in the form. */
const MAX_ECHOED_CODE = 20;

function clusterName(deps: IssuerContext, audience: string): string {
  return deps.issuer.clusters.find((c) => c.audience === audience)?.name ?? audience;
}

function entryForm(
  ctx: Koa.Context,
  deps: IssuerContext,
  code?: string,
  problem?: 'unknown-user-code',
): void {
  renderPage(ctx, {
    ...(problem && { problem }),
    title: 'Sign in a device',
    main: html`${problem ? html`<div class="notice problem" role="alert">${problemText(problem)}</div>` : ''}
<p>Enter the code shown in your terminal by <code>kube-oidc-bridge login --device</code>.</p>
<form method="post" action="${OAUTH_PATHS.device}">
<input type="hidden" name="csrf" value="${deps.web.csrf.token(ctx)}">
<p><label for="user_code">Code</label><br>
<input id="user_code" name="user_code" value="${code ?? ''}" autocomplete="off" autocapitalize="characters" spellcheck="false" placeholder="BCDF-GHJK" required></p>
<p><button type="submit">Continue</button></p>
</form>`,
  });
}

function confirmPage(ctx: Koa.Context, deps: IssuerContext, found: FoundDevice): void {
  const { record } = found;
  const csrf = deps.web.csrf.token(ctx);
  const minutes = Math.max(0, Math.round((deps.clock.now() - record.createdAt) / 60));
  const approve = deps.issuer.upstreams.map(
    (u) => html`<form method="post" action="${OAUTH_PATHS.deviceConfirm}">
<input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="user_code" value="${record.userCode}">
<input type="hidden" name="decision" value="approve"><input type="hidden" name="upstream" value="${u.name}">
<button type="submit">Approve and sign in with ${u.displayName ?? u.name}</button></form>`,
  );
  renderPage(ctx, {
    title: 'Approve this sign-in?',
    main: html`<div class="notice"><p>Approve only if <strong>you</strong> just started this sign-in in your own terminal.
If someone sent you this code, deny: they are trying to get access as you.</p></div>
<dl>
<dt>Client</dt><dd>kube-oidc-bridge command line (<code>${record.clientId}</code>)</dd>
<dt>Cluster</dt><dd>${clusterName(deps, record.audience)}</dd>
<dt>Requested from</dt><dd>${record.requester.ip}</dd>
<dt>Program</dt><dd>${record.requester.userAgent || 'not given'}</dd>
<dt>When</dt><dd>${minutes === 0 ? 'less than a minute ago' : `${minutes} minute${minutes === 1 ? '' : 's'} ago`}</dd>
<dt>Code</dt><dd><code>${record.userCode}</code></dd>
</dl>
${approve}
<form method="post" action="${OAUTH_PATHS.deviceConfirm}">
<input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="user_code" value="${record.userCode}">
<input type="hidden" name="decision" value="deny"><button type="submit" class="secondary">Deny</button></form>`,
  });
}

/** The posted form, when it is one and carries this browser's CSRF token; else the problem page. */
async function readCheckedForm(ctx: Koa.Context, deps: IssuerContext): Promise<URLSearchParams | undefined> {
  let form: URLSearchParams;
  try {
    form = await readFormBody(ctx.req);
  } catch {
    renderProblemPage(ctx, 'bad-request');
    return undefined;
  }
  if (!deps.web.csrf.verify(ctx, form.get('csrf'))) {
    renderProblemPage(ctx, 'form-forbidden');
    return undefined;
  }
  return form;
}

/** Renders a failed code lookup: the rate-limit page, or the form again with the typed code. */
function renderLookupProblem(
  ctx: Koa.Context,
  deps: IssuerContext,
  lookup: Exclude<UserCodeLookup, { ok: true }>,
  typed: string,
): void {
  if (lookup.problem === 'rate-limited') renderProblemPage(ctx, 'rate-limited');
  else entryForm(ctx, deps, typed.slice(0, MAX_ECHOED_CODE), lookup.problem);
}

export function registerDevicePage(router: Router, deps: IssuerContext): void {
  router.get(OAUTH_PATHS.device, (ctx) => {
    const code =
      typeof ctx.query.user_code === 'string' ? ctx.query.user_code.slice(0, MAX_ECHOED_CODE) : undefined;
    entryForm(ctx, deps, code);
  });

  router.post(OAUTH_PATHS.device, async (ctx) => {
    const form = await readCheckedForm(ctx, deps);
    if (!form) return;
    const userCode = form.get('user_code') ?? '';
    const lookup = await lookUpUserCode(deps, { userCode, clientAddress: ctx.ip });
    recordDeviceStep(deps, lookup);
    if (!lookup.ok) return renderLookupProblem(ctx, deps, lookup, userCode);
    confirmPage(ctx, deps, lookup.found);
  });

  router.post(OAUTH_PATHS.deviceConfirm, async (ctx) => {
    const form = await readCheckedForm(ctx, deps);
    if (!form) return;
    const userCode = form.get('user_code') ?? '';
    const decision = await decideDevice(deps, {
      userCode,
      decision: form.get('decision') === 'deny' ? 'deny' : 'approve',
      upstream: form.get('upstream') ?? '',
      clientAddress: ctx.ip,
    });
    recordDeviceStep(deps, decision);
    if (!decision.ok) return renderLookupProblem(ctx, deps, decision, userCode);
    if (decision.decision === 'approve') return sendToUpstream(ctx, deps, decision.begin);
    renderPage(ctx, {
      title: 'Sign-in denied',
      main: html`<p>The request was denied; the terminal that asked will be told. You can close this page.</p>`,
    });
  });
}
