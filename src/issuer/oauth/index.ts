import { Router } from '@koa/router';
import type { IssuerContext } from '../issuer-context.js';
import { problemPages } from '../pages/problem-page.js';
import { registerAuthorize } from './authorize.js';
import { registerDeviceAuthorization } from './device-authorization.js';
import { registerDevicePage } from './device-page.js';
import { OAUTH_PATHS } from './issuer-identifier.js';
import { registerMetadata } from './metadata.js';
import { oauthInfrastructureErrors } from './oauth-error.js';
import { registerRevoke } from './revoke.js';
import { registerToken } from './token.js';
import { registerUserinfo } from './userinfo.js';

export { issuerIdentifier, OAUTH_PATHS } from './issuer-identifier.js';
export { authorizationServerMetadata } from './metadata.js';

/**
 * The issuer's OAuth 2.0 authorization server for its one public client, the CLI: metadata, the
 * authorization, token, device authorization, revocation and userinfo endpoints, and the /device page.
 * createIssuer mounts it next to the browser pages.
 */
export function createOAuthRouter(deps: IssuerContext): Router {
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
