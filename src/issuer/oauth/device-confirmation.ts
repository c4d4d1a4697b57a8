import { type BeginDeps, type BeginOutcome, beginLogin } from '../login/begin.js';
import { DeviceGrants, type FoundDevice } from '../models/device-grant.js';
import { normalizeUserCode } from './user-code.js';

export type DeviceConfirmationDeps = BeginDeps;

export interface UserCodeInput {
  /** What the person typed (or the confirm form carried). */
  userCode: string;
  clientAddress: string;
}

export type UserCodeLookup =
  | { ok: true; found: FoundDevice }
  | { ok: false; problem: 'rate-limited'; clientAddress: string }
  | { ok: false; problem: 'unknown-user-code' };

export type DeviceDecision =
  | Exclude<UserCodeLookup, { ok: true }>
  | { ok: true; decision: 'deny' }
  | { ok: true; decision: 'approve'; begin: BeginOutcome };

/**
 * The pending device authorization a typed user code stands for (RFC 8628 §3.3). Every lookup counts
 * against a per-address limit (`issuer.rateLimit.userCodeAttemptsPerMinute`, shared by replicas through
 * the store) so codes cannot be guessed (§5.1).
 */
export async function lookUpUserCode(
  deps: DeviceConfirmationDeps,
  input: UserCodeInput,
): Promise<UserCodeLookup> {
  const allowed = await deps.web.rateLimiter.allow(input.clientAddress, {
    bucket: 'user-code',
    limit: deps.issuer.rateLimit.userCodeAttemptsPerMinute,
  });
  if (!allowed) return { ok: false, problem: 'rate-limited', clientAddress: input.clientAddress };
  const code = normalizeUserCode(input.userCode);
  const found = code ? await new DeviceGrants(deps.store).findPendingByUserCode(code) : undefined;
  return found ? { ok: true, found } : { ok: false, problem: 'unknown-user-code' };
}

/**
 * The person's answer on the confirmation page: `deny` settles the authorization at once (the CLI's
 * next poll gets `access_denied`); `approve` starts the sign-in at the chosen upstream, and the login's
 * finish (login/finish.ts) approves it.
 */
export async function decideDevice(
  deps: DeviceConfirmationDeps,
  input: UserCodeInput & { decision: 'approve' | 'deny'; upstream: string },
): Promise<DeviceDecision> {
  const lookup = await lookUpUserCode(deps, input);
  if (!lookup.ok) return lookup;
  const { deviceId } = lookup.found;
  if (input.decision === 'deny') {
    await new DeviceGrants(deps.store).decide(deviceId, 'denied');
    return { ok: true, decision: 'deny' };
  }
  const begin = await beginLogin(deps, {
    upstream: input.upstream,
    purpose: { kind: 'device', deviceId },
    clientAddress: input.clientAddress,
  });
  return { ok: true, decision: 'approve', begin };
}
