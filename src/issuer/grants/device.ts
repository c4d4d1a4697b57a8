import type { IssuerConfig } from '../../config/index.js';
import type { Clock } from '../../core/clock.js';
import type { TokenService } from '../../tokens/index.js';
import { type DeviceGrants, deviceKey } from '../models/device-grant.js';
import { createCliSession } from '../models/granted-login.js';
import { type GrantOutcome, refused } from './grant-outcome.js';
import { mintTokenPair } from './mint-token-pair.js';

export interface DeviceGrantDeps {
  issuer: IssuerConfig;
  tokens: TokenService;
  clock: Clock;
  devices: DeviceGrants;
}

/** RFC 8628 §3.5: each `slow_down` adds this many seconds to the polling interval. */
const SLOW_DOWN_STEP = 5;
/** Polls are timed in whole seconds: allow one second of rounding before calling a poll early. */
const POLL_TOLERANCE = 1;
/** A poll that lost a race to a state change looks again, a few times at most. */
const POLL_ATTEMPTS = 3;

/**
 * `grant_type=urn:ietf:params:oauth:grant-type:device_code` (RFC 8628 §3.4–3.5): `authorization_pending`
 * until the person approves on the /device page, `slow_down` for a client polling faster than its
 * interval, `access_denied` when they refused, `expired_token` when the code has run out. A poll records
 * itself with one compare-and-set: when the record changed since it was read (approved meanwhile), the
 * poll looks again instead of writing over it. An approved record is taken from the store, so exactly
 * one poll gets the tokens.
 */
export async function deviceGrant(
  deps: DeviceGrantDeps,
  input: { clientId: string; params: URLSearchParams },
): Promise<GrantOutcome> {
  const deviceCode = input.params.get('device_code');
  if (!deviceCode) return refused('device_code', 'invalid', 'invalid_request', 'device_code is required');
  const deviceId = deviceKey(deviceCode);
  for (let attempt = 0; attempt < POLL_ATTEMPTS; attempt++) {
    const record = await deps.devices.find(deviceId);
    if (!record)
      return refused('device_code', 'expired', 'expired_token', 'the device code has expired; start again');
    if (record.clientId !== input.clientId) {
      return refused('device_code', 'invalid', 'invalid_grant', 'device code issued to another client');
    }
    if (record.status === 'denied') {
      await deps.devices.redeem(deviceId);
      return refused('device_code', 'denied', 'access_denied', 'the request was denied on the device page');
    }
    if (record.status === 'approved') {
      const approved = await deps.devices.redeem(deviceId);
      if (!approved?.login)
        return refused('device_code', 'invalid', 'invalid_grant', 'device code already redeemed');
      const session = await createCliSession(deps.tokens, approved.login);
      return mintTokenPair(
        deps,
        'device_code',
        'success',
        session,
        approved.audience,
        [approved.audience],
        approved.login.upstream,
      );
    }
    const now = deps.clock.now();
    const tooSoon = record.lastPollAt > 0 && now - record.lastPollAt < record.interval - POLL_TOLERANCE;
    const interval = tooSoon ? record.interval + SLOW_DOWN_STEP : record.interval;
    if (await deps.devices.transition(deviceId, record, { ...record, lastPollAt: now, interval })) {
      return tooSoon
        ? refused('device_code', 'slow_down', 'slow_down', `poll at most every ${interval} seconds`)
        : refused('device_code', 'pending', 'authorization_pending');
    }
  }
  return refused('device_code', 'pending', 'authorization_pending');
}
