import type Koa from 'koa';
import type { IssuerContext } from '../issuer-context.js';
import { completeCliAuthorization } from '../oauth/authorization-code.js';
import { completeDeviceApproval } from '../oauth/device-completion.js';
import { completeWebLogin } from '../session/complete-web-login.js';
import type { CompletedLogin, LoginPurpose } from './types.js';

/**
 * Finishes a login the upstream vouched for and the mapping rules accepted, for the purpose it was
 * started with: a browser session (`web`), an authorization code for the CLI (`cli-authorize`), or an
 * approved device code (`device`). Never called for a refused user. This is where a step that needs
 * the completed login (e.g. looking up more upstream claims) belongs: before the switch.
 */
export async function finishLogin(
  deps: IssuerContext,
  ctx: Koa.Context,
  login: CompletedLogin,
  purpose: LoginPurpose,
): Promise<void> {
  switch (purpose.kind) {
    case 'web':
      return completeWebLogin(deps, ctx, login);
    case 'cli-authorize':
      return completeCliAuthorization(deps, ctx, login, purpose.requestId);
    case 'device':
      return completeDeviceApproval(deps, ctx, login, purpose.deviceId);
  }
}
