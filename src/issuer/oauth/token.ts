import type { Router } from '@koa/router';
import type Koa from 'koa';
import { authorizationCodeGrant } from '../grants/authorization-code.js';
import { deviceGrant } from '../grants/device.js';
import { recordGrantOutcome } from '../grants/grant-instruments.js';
import type { GrantOutcome } from '../grants/grant-outcome.js';
import { refreshGrant } from '../grants/refresh.js';
import type { IssuerContext } from '../issuer-context.js';
import { DeviceGrants } from '../models/device-grant.js';
import { OAUTH_PATHS } from './issuer-identifier.js';
import { sendOAuthError, sendOAuthJson } from './oauth-error.js';
import { readOAuthForm, requestClientId } from './request-params.js';

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/**
 * The token endpoint (RFC 6749 §3.2): form-encoded POST, one public client identified by `client_id`
 * (no secret: PKCE, the device code or the refresh token carries the proof), errors as §5.2 JSON.
 */
export function registerToken(router: Router, deps: IssuerContext): void {
  const devices = new DeviceGrants(deps.store);
  router.post(OAUTH_PATHS.token, async (ctx) => {
    await deps.web.rateLimiter.check(ctx.ip, {
      bucket: 'token',
      limit: deps.issuer.rateLimit.tokenPerMinute,
    });
    const form = await readOAuthForm(ctx);
    if (!form.ok) return sendOAuthError(ctx, 'invalid_request', form.description);
    const params = form.params;
    const clientId = requestClientId(ctx, params);
    if (clientId !== deps.issuer.cli.clientID) {
      return sendOAuthError(ctx, 'invalid_client', 'unknown client');
    }
    switch (params.get('grant_type')) {
      case 'authorization_code':
        return render(ctx, deps, await authorizationCodeGrant(deps, { clientId, params }));
      case 'refresh_token':
        return render(ctx, deps, await refreshGrant(deps, { clientId, params }));
      case DEVICE_CODE_GRANT:
        return render(ctx, deps, await deviceGrant({ ...deps, devices }, { clientId, params }));
      case null:
        return sendOAuthError(ctx, 'invalid_request', 'grant_type is required');
      default:
        return sendOAuthError(ctx, 'unsupported_grant_type');
    }
  });
}

/** Records the outcome (metrics, audit) and answers it: tokens, or an error through the one table. */
function render(ctx: Koa.Context, deps: IssuerContext, outcome: GrantOutcome): void {
  recordGrantOutcome(deps, outcome);
  if (outcome.ok) sendOAuthJson(ctx, outcome.body);
  else sendOAuthError(ctx, outcome.error, outcome.description);
}
