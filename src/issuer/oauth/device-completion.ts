import type Koa from 'koa';
import { audit } from '../../core/logger.js';
import type { CompletedLogin, LoginCompletionHandler } from '../login/types.js';
import { DeviceGrants } from '../models/device-grant.js';
import { toGrantedLogin } from '../models/granted-login.js';
import { html } from '../web/html.js';
import { renderPage } from '../web/layout.js';
import type { CompletionDeps } from './deps.js';

/**
 * Finishes a `device` login: the person approved on /device and signed in upstream. The record turns
 * `approved` with the login attached; the CLI's next poll redeems it. The user code is retired at once.
 */
export function createDeviceCompletion(deps: CompletionDeps): LoginCompletionHandler {
  return async (ctx: Koa.Context, login: CompletedLogin, purpose) => {
    if (purpose.kind !== 'device') return;
    const approved = await new DeviceGrants(deps.store).decide(purpose.deviceId, {
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
  };
}
