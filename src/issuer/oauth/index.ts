import { Router } from '@koa/router';
import type { LoginCompletionHandler } from '../login/types.js';
import { problemPages } from '../pages/problem-page.js';
import { createAuthorizationCompletion } from './authorization-code.js';
import { registerAuthorize } from './authorize.js';
import type { CompletionDeps, OAuthDeps } from './deps.js';
import { registerDeviceAuthorization } from './device-authorization.js';
import { createDeviceCompletion } from './device-completion.js';
import { registerDevicePage } from './device-page.js';
import { OAUTH_PATHS } from './issuer-identifier.js';
import { registerMetadata } from './metadata.js';
import { oauthInfrastructureErrors } from './oauth-error.js';
import { registerRevoke } from './revoke.js';
import { registerToken } from './token.js';
import { registerUserinfo } from './userinfo.js';

export type { CompletionDeps, OAuthDeps } from './deps.js';
export { issuerIdentifier, OAUTH_PATHS } from './issuer-identifier.js';
export { authorizationServerMetadata } from './metadata.js';

/**
 * The issuer's OAuth 2.0 authorization server for its one public client, the CLI: metadata, the
 * authorization, token, device authorization, revocation and userinfo endpoints, and the /device page.
 * Mount it on the issuer listener: `extraRouters: (toolkit) => [createOAuthRouter({ ...deps, ...toolkit })]`.
 */
export function createOAuthRouter(deps: OAuthDeps): Router {
  const router = new Router();
  const jsonEndpoints = [
    OAUTH_PATHS.token,
    OAUTH_PATHS.deviceAuthorization,
    OAUTH_PATHS.revoke,
    OAUTH_PATHS.userinfo,
  ];
  router.use(jsonEndpoints, oauthInfrastructureErrors(deps.logger));
  // A browser visits these: failures get the issuer's HTML problem pages, not the JSON fallback.
  const pages = [
    OAUTH_PATHS.authorize,
    OAUTH_PATHS.authorizeContinue,
    OAUTH_PATHS.device,
    OAUTH_PATHS.deviceConfirm,
  ];
  router.use(pages, problemPages(deps.logger));
  registerMetadata(router, deps.issuer);
  registerAuthorize(router, deps);
  registerToken(router, deps);
  registerDeviceAuthorization(router, deps);
  registerDevicePage(router, deps);
  registerRevoke(router, deps);
  registerUserinfo(router, deps);
  return router;
}

/**
 * The finishers of logins the CLI's endpoints started, for startIssuer's `completionHandlers`:
 * `cli-authorize` issues the authorization code, `device` approves the device code.
 */
export function createCliCompletionHandlers(
  deps: CompletionDeps,
): Record<'cli-authorize' | 'device', LoginCompletionHandler> {
  return {
    'cli-authorize': createAuthorizationCompletion(deps),
    device: createDeviceCompletion(deps),
  };
}
