import type { Router } from '@koa/router';
import type { IssuerContext } from '../issuer-context.js';
import { DeviceGrants } from '../models/device-grant.js';
import { pendingBudget } from '../web/rate-limiter.js';
import { chooseAudience } from './audience.js';
import { endpointURL, OAUTH_PATHS } from './issuer-identifier.js';
import { sendOAuthError, sendOAuthJson } from './oauth-error.js';
import { readOAuthForm, requestClientId } from './request-params.js';
import { generateUserCode } from './user-code.js';

/**
 * The device authorization endpoint (RFC 8628 §3.1–3.2): a secret device_code for the CLI to poll
 * with, a short user_code for the person to type on /device, and where to type it.
 */
export function registerDeviceAuthorization(router: Router, deps: IssuerContext): void {
  const issuer = deps.issuer;
  router.post(OAUTH_PATHS.deviceAuthorization, async (ctx) => {
    const form = await readOAuthForm(ctx);
    if (!form.ok) return sendOAuthError(ctx, 'invalid_request', form.description);
    if (requestClientId(ctx, form.params) !== issuer.cli.clientID) {
      return sendOAuthError(ctx, 'invalid_client', 'unknown client');
    }
    const audience = chooseAudience(issuer, form.params);
    if (!audience.ok) return sendOAuthError(ctx, 'invalid_target', audience.description);

    // Bound before store: a refused request costs the store one counter, never a record.
    await deps.web.rateLimiter.check(
      ctx.ip,
      { bucket: 'device-authorization', limit: issuer.rateLimit.loginPerMinute },
      pendingBudget(issuer),
    );
    const ttl = issuer.cli.deviceCodeTTL;
    const now = deps.clock.now();
    const started = await new DeviceGrants(deps.store).start(
      {
        clientId: issuer.cli.clientID,
        audience: audience.audience,
        interval: issuer.cli.devicePollInterval,
        createdAt: now,
        expiresAt: now + ttl,
        requester: { ip: ctx.ip, userAgent: ctx.get('user-agent').slice(0, 200) },
      },
      ttl,
      generateUserCode,
    );
    if (!started) return sendOAuthError(ctx, 'temporarily_unavailable', 'try again');
    const { deviceCode, record } = started;
    const userCode = record.userCode;
    const verificationUri = endpointURL(issuer, OAUTH_PATHS.device);
    sendOAuthJson(ctx, {
      device_code: deviceCode,
      user_code: userCode,
      verification_uri: verificationUri,
      verification_uri_complete: `${verificationUri}?${new URLSearchParams({ user_code: userCode })}`,
      expires_in: ttl,
      interval: record.interval,
    });
  });
}
