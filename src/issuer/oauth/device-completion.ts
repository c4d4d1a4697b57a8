import type Koa from 'koa';
import { audit } from '../../core/logger.js';
import type { IssuerContext } from '../issuer-context.js';
import type { CompletedLogin } from '../login/types.js';
import { DeviceGrants } from '../models/device-grant.js';
import { toGrantedLogin } from '../models/granted-login.js';
import { html } from '../web/html.js';
import { renderPage } from '../web/layout.js';

/**
 * Finishes a `device` login: the person approved on /device and signed in upstream. The record turns
 * `approved` with the login attached; the CLI's next poll redeems it. The user code is retired at once.
 */
export async function completeDeviceApproval(
  deps: IssuerContext,
  ctx: Koa.Context,
  login: CompletedLogin,
  deviceId: string,
): Promise<void> {
  const approved = await new DeviceGrants(deps.store).decide(deviceId, {
    login: toGrantedLogin(login),
  });
  if (!approved) {
    renderPage(ctx, {
      status: 400,
      title: 'This code has expired',
      main: html`<div class="notice problem"><p>The device sign-in was already finished, denied, or took too long.
Start again in your terminal.</p></div>`,
    });
    return;
  }
  audit(deps.logger, 'device', { result: 'approved', username: login.user.username });
  renderPage(ctx, {
    title: 'Device signed in',
    main: html`<p>You are signed in as <strong>${login.user.username}</strong>. Return to your terminal: it
continues by itself. You can close this page.</p>`,
  });
}
