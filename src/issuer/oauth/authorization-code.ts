import type Koa from 'koa';
import { randomId } from '../../core/token-format.js';
import type { IssuerContext } from '../issuer-context.js';
import type { CompletedLogin } from '../login/types.js';
import { type AuthorizationCodeRecord, AuthorizationCodes } from '../models/authorization-code.js';
import { toGrantedLogin } from '../models/granted-login.js';
import { html } from '../web/html.js';
import { renderPage } from '../web/layout.js';
import { type PendingAuthorization, pendingAuthorizationKey, redirectWith } from './authorize.js';
import { issuerIdentifier } from './issuer-identifier.js';

/**
 * Finishes a `cli-authorize` login: takes the parked request (single use), issues the code, and sends
 * the browser back to the CLI's loopback receiver with `code`, `state` and `iss` (RFC 9207).
 */
export async function completeCliAuthorization(
  deps: IssuerContext,
  ctx: Koa.Context,
  login: CompletedLogin,
  requestId: string,
): Promise<void> {
  const pending = await deps.store.takeEphemeral<PendingAuthorization>(
    'login',
    pendingAuthorizationKey(requestId),
  );
  if (!pending) {
    renderPage(ctx, {
      status: 400,
      title: 'This login has expired',
      main: html`<div class="notice problem"><p>The command line's login request was already used or took too
long. Run <code>kube-oidc-bridge login</code> (or any kubectl command) again.</p></div>`,
    });
    return;
  }
  const code = randomId(32);
  const record: AuthorizationCodeRecord = {
    clientId: pending.clientId,
    redirectUri: pending.redirectUri,
    codeChallenge: pending.codeChallenge,
    audience: pending.audience,
    login: toGrantedLogin(login),
  };
  await new AuthorizationCodes(deps.store).issue(code, record, deps.issuer.cli.authorizationCodeTTL);
  ctx.redirect(
    redirectWith(pending.redirectUri, {
      code,
      state: pending.state,
      iss: issuerIdentifier(deps.issuer),
    }),
  );
}
