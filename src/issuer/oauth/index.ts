import { Router } from '@koa/router';
import type { LoginCompletionHandler } from '../login/types.js';
import { createAuthorizationCompletion } from './authorization-code.js';
import { registerAuthorize } from './authorize.js';
import type { OAuthDeps } from './deps.js';
import { registerDeviceAuthorization } from './device-authorization.js';
import { createDeviceCompletion } from './device-completion.js';
import { registerDevicePage } from './device-page.js';
import { OAUTH_PATHS } from './issuer-identifier.js';
import { registerMetadata } from './metadata.js';
import { oauthInfrastructureErrors } from './oauth-error.js';
import { registerRevoke } from './revoke.js';
import { registerToken } from './token.js';
import { registerUserinfo } from './userinfo.js';

export type { OAuthDeps } from './deps.js';
export { issuerIdentifier, OAUTH_PATHS } from './issuer-identifier.js';
export { authorizationServerMetadata } from './metadata.js';

/**
 * The issuer's OAuth 2.0 authorization server for its one public client, the CLI: metadata, the
 * authorization, token, device authorization, revocation and userinfo endpoints, and the /device page.
 * Mount the router in the issuer app and register the two completion handlers with the login flow.
 */
export function createCliOAuth(deps: OAuthDeps): {
  router: Router;
  completionHandlers: Record<'cli-authorize' | 'device', LoginCompletionHandler>;
} {
  const router = new Router();
  const jsonEndpoints = [
    OAUTH_PATHS.token,
    OAUTH_PATHS.deviceAuthorization,
    OAUTH_PATHS.revoke,
    OAUTH_PATHS.userinfo,
  ];
  router.use(jsonEndpoints, oauthInfrastructureErrors(deps.logger));
  registerMetadata(router, deps.config.issuer);
  registerAuthorize(router, deps);
  registerToken(router, deps);
  registerDeviceAuthorization(router, deps);
  registerDevicePage(router, deps);
  registerRevoke(router, deps);
  registerUserinfo(router, deps);
  return {
    router,
    completionHandlers: {
      'cli-authorize': createAuthorizationCompletion(deps),
      device: createDeviceCompletion(deps),
    },
  };
}
