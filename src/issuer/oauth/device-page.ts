import type { Router } from '@koa/router';
import type Koa from 'koa';
import { isBridgeError } from '../../core/errors.js';
import { audit } from '../../core/logger.js';
import type { IssuerContext } from '../issuer-context.js';
import { beginUpstreamLogin } from '../login/begin-login.js';
import { DeviceGrants, type FoundDevice } from '../models/device-grant.js';
import { renderProblemPage } from '../pages/problem-page.js';
import { readFormBody } from '../web/form-body.js';
import { html } from '../web/html.js';
import { renderPage } from '../web/layout.js';
import { OAUTH_PATHS } from './issuer-identifier.js';
import { normalizeUserCode } from './user-code.js';

/**
 * The /device page (RFC 8628 §3.3): the person types the code their terminal shows, sees which client
 * asks, for which cluster, from where and when, and only then approves (and signs in upstream) or
 * denies. Every form carries a CSRF token (a malicious page must not approve a code for you, §5.4),
 * and every code lookup counts against a per-address limit (`issuer.rateLimit.userCodeAttemptsPerMinute`,
 * shared by replicas through the store) so codes cannot be guessed (§5.1).
 */

function clusterName(deps: IssuerContext, audience: string): string {
  return deps.issuer.clusters.find((c) => c.audience === audience)?.name ?? audience;
}

function entryForm(
  ctx: Koa.Context,
  deps: IssuerContext,
  options: { code?: string; problem?: string; status?: number },
): void {
  renderPage(ctx, {
    status: options.status ?? 200,
    title: 'Sign in a device',
    main: html`${options.problem ? html`<div class="notice problem" role="alert"><p>${options.problem}</p></div>` : ''}
<p>Enter the code shown in your terminal by <code>kube-oidc-bridge login --device</code>.</p>
<form method="post" action="${OAUTH_PATHS.device}">
<input type="hidden" name="csrf" value="${deps.web.csrf.token(ctx)}">
<p><label for="user_code">Code</label><br>
<input id="user_code" name="user_code" value="${options.code ?? ''}" autocomplete="off" autocapitalize="characters" spellcheck="false" placeholder="BCDF-GHJK" required></p>
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

/**
 * CSRF check, rate limit, then the pending record for the submitted code. Renders the answer itself
 * and returns undefined when the request cannot go on.
 */
async function lookUpSubmittedCode(
  ctx: Koa.Context,
  deps: IssuerContext,
  form: URLSearchParams,
): Promise<FoundDevice | undefined> {
  if (!deps.web.csrf.verify(ctx, form.get('csrf'))) {
    renderProblemPage(ctx, 'bad-request');
    ctx.status = 403;
    return undefined;
  }
  try {
    await deps.web.rateLimiter.check(ctx, 'user-code', deps.issuer.rateLimit.userCodeAttemptsPerMinute);
  } catch (err) {
    if (isBridgeError(err) && err.code === 'ERR_RATE_LIMITED') {
      audit(deps.logger, 'device', { result: 'rate_limited', ip: ctx.ip });
      renderProblemPage(ctx, 'rate-limited');
      return undefined;
    }
    throw err;
  }
  const typed = form.get('user_code') ?? '';
  const code = normalizeUserCode(typed);
  const found = code ? await new DeviceGrants(deps.store).findPendingByUserCode(code) : undefined;
  if (!found) {
    entryForm(ctx, deps, {
      code: typed.slice(0, 20),
      status: 400,
      problem: 'That code is not valid or has expired. Check it against your terminal, or start again there.',
    });
    return undefined;
  }
  return found;
}

async function readForm(ctx: Koa.Context): Promise<URLSearchParams | undefined> {
  try {
    return await readFormBody(ctx.req);
  } catch {
    renderProblemPage(ctx, 'bad-request');
    return undefined;
  }
}

export function registerDevicePage(router: Router, deps: IssuerContext): void {
  router.get(OAUTH_PATHS.device, (ctx) => {
    const code = typeof ctx.query.user_code === 'string' ? ctx.query.user_code.slice(0, 20) : undefined;
    entryForm(ctx, deps, { code });
  });

  router.post(OAUTH_PATHS.device, async (ctx) => {
    const form = await readForm(ctx);
    if (!form) return;
    const found = await lookUpSubmittedCode(ctx, deps, form);
    if (found) confirmPage(ctx, deps, found);
  });

  router.post(OAUTH_PATHS.deviceConfirm, async (ctx) => {
    const form = await readForm(ctx);
    if (!form) return;
    const found = await lookUpSubmittedCode(ctx, deps, form);
    if (!found) return;
    if (form.get('decision') === 'deny') {
      await new DeviceGrants(deps.store).decide(found.deviceId, 'denied');
      audit(deps.logger, 'device', { result: 'denied' });
      renderPage(ctx, {
        title: 'Sign-in denied',
        main: html`<p>The request was denied; the terminal that asked will be told. You can close this page.</p>`,
      });
      return;
    }
    const upstream = form.get('upstream') ?? '';
    if (!deps.issuer.upstreams.some((u) => u.name === upstream)) {
      renderProblemPage(ctx, 'unknown-upstream');
      return;
    }
    await beginUpstreamLogin(deps, ctx, upstream, { kind: 'device', deviceId: found.deviceId });
  });
}
