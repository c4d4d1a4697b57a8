import type Koa from 'koa';
import { audit } from '../../core/logger.js';
import type { OAuthDeps } from './deps.js';
import { type DeviceRecord, deviceKey } from './device-record.js';
import { createCliSession } from './granted-login.js';
import { sendOAuthError } from './oauth-error.js';
import { issueTokenResponse } from './token-response.js';

/** RFC 8628 §3.5: each `slow_down` adds this many seconds to the polling interval. */
const SLOW_DOWN_STEP = 5;
/** Polls are timed in whole seconds: allow one second of rounding before calling a poll early. */
const POLL_TOLERANCE = 1;

/**
 * `grant_type=urn:ietf:params:oauth:grant-type:device_code` (RFC 8628 §3.4–3.5): `authorization_pending`
 * until the person approves on the /device page, `slow_down` for a client polling faster than its
 * interval, `access_denied` when they refused, `expired_token` when the code has run out. An approved
 * record is taken from the store, so exactly one poll gets the tokens.
 */
export async function grantDeviceCode(
  ctx: Koa.Context,
  deps: OAuthDeps,
  params: URLSearchParams,
  clientId: string,
): Promise<void> {
  const deviceCode = params.get('device_code');
  if (!deviceCode) return sendOAuthError(ctx, 'invalid_request', 'device_code is required');
  const key = deviceKey(deviceCode);
  const record = await deps.store.getEphemeral<DeviceRecord>('device', key);
  if (!record) return sendOAuthError(ctx, 'expired_token', 'the device code has expired; start again');
  if (record.clientId !== clientId)
    return sendOAuthError(ctx, 'invalid_grant', 'device code issued to another client');

  if (record.status === 'denied') {
    await deps.store.takeEphemeral('device', key);
    return sendOAuthError(ctx, 'access_denied', 'the request was denied on the device page');
  }
  if (record.status === 'pending') {
    const now = deps.clock.now();
    if (record.lastPollAt > 0 && now - record.lastPollAt < record.interval - POLL_TOLERANCE) {
      await deps.store.updateEphemeral('device', key, {
        ...record,
        lastPollAt: now,
        interval: record.interval + SLOW_DOWN_STEP,
      });
      return sendOAuthError(
        ctx,
        'slow_down',
        `poll at most every ${record.interval + SLOW_DOWN_STEP} seconds`,
      );
    }
    await deps.store.updateEphemeral('device', key, { ...record, lastPollAt: now });
    return sendOAuthError(ctx, 'authorization_pending');
  }
  const approved = await deps.store.takeEphemeral<DeviceRecord>('device', key);
  if (!approved?.login) return sendOAuthError(ctx, 'invalid_grant', 'device code already redeemed');
  const session = await createCliSession(deps.tokens, approved.login);
  audit(deps.logger, 'login', {
    source: 'cli',
    flow: 'device',
    result: 'success',
    sessionId: session.id,
    username: session.username,
    upstream: approved.login.upstream,
  });
  await issueTokenResponse(ctx, deps, session, approved.audience, [approved.audience], 'device_code');
}
