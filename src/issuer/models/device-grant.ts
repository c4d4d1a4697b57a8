import { hashCredential, randomId } from '../../core/token-format.js';
import type { TokenStore } from '../../store/index.js';
import type { GrantedLogin } from './granted-login.js';

/**
 * A device authorization (RFC 8628) in flight. Stored under the hash of its device_code (namespace
 * `device`); the user code maps to that key (namespace `user-code`). Both expire after
 * `issuer.cli.deviceCodeTTL`. This module owns both keys, and every state change is one atomic
 * compare-and-set (`swapEphemeral`): a poll that read `pending` can never write over an approval.
 */
export interface DeviceRecord {
  clientId: string;
  audience: string;
  userCode: string;
  status: 'pending' | 'approved' | 'denied';
  /** Seconds the client must wait between polls; raised by 5 on every `slow_down` (§3.5). */
  interval: number;
  /** Epoch seconds of the last poll (0 before the first). */
  lastPollAt: number;
  createdAt: number;
  expiresAt: number;
  /** Shown on the confirmation page, so the person can tell whether this is their own request. */
  requester: { ip: string; userAgent: string };
  /** Set when approved. */
  login?: GrantedLogin;
}

export interface FoundDevice {
  deviceId: string;
  record: DeviceRecord;
}

/** Collisions among live user codes are rare (20^8 codes); a few tries make them impossible in practice. */
const USER_CODE_ATTEMPTS = 5;

/** Store key of a device record: the hash of its device_code. */
export function deviceKey(deviceCode: string): string {
  return hashCredential(deviceCode);
}

export class DeviceGrants {
  constructor(private readonly store: TokenStore) {}

  /**
   * Starts a device authorization: a fresh device code and a user code no live authorization has
   * (claimed with create-if-absent, so two concurrent starts never share one). Undefined when no free
   * user code was found.
   */
  async start(
    record: Omit<DeviceRecord, 'userCode' | 'status' | 'lastPollAt'>,
    ttl: number,
    generateUserCode: () => string,
  ): Promise<{ deviceCode: string; record: DeviceRecord } | undefined> {
    const deviceCode = randomId(32);
    const deviceId = deviceKey(deviceCode);
    for (let i = 0; i < USER_CODE_ATTEMPTS; i++) {
      const userCode = generateUserCode();
      if (!(await this.store.putEphemeralIfAbsent('user-code', userCode, deviceId, ttl))) continue;
      const full: DeviceRecord = { ...record, userCode, status: 'pending', lastPollAt: 0 };
      await this.store.putEphemeral('device', deviceId, full, ttl);
      return { deviceCode, record: full };
    }
    return undefined;
  }

  async find(deviceId: string): Promise<DeviceRecord | undefined> {
    return this.store.getEphemeral<DeviceRecord>('device', deviceId);
  }

  /** The pending authorization a typed (normalised) user code stands for. */
  async findPendingByUserCode(userCode: string): Promise<FoundDevice | undefined> {
    const deviceId = await this.store.getEphemeral<string>('user-code', userCode);
    const record = deviceId ? await this.find(deviceId) : undefined;
    return deviceId && record?.status === 'pending' ? { deviceId, record } : undefined;
  }

  /** One atomic transition from the record as read to `next`; false when it changed in between. */
  transition(deviceId: string, from: DeviceRecord, next: DeviceRecord): Promise<boolean> {
    return this.store.swapEphemeral('device', deviceId, from, next);
  }

  /**
   * `pending` → `approved` with the login attached, or `denied`. Retires the user code at once. False
   * when the authorization is no longer pending (already decided, expired).
   */
  async decide(deviceId: string, decision: { login: GrantedLogin } | 'denied'): Promise<boolean> {
    const record = await this.find(deviceId);
    if (record?.status !== 'pending') return false;
    const next: DeviceRecord =
      decision === 'denied'
        ? { ...record, status: 'denied' }
        : { ...record, status: 'approved', login: decision.login };
    if (!(await this.transition(deviceId, record, next))) return false;
    await this.store.takeEphemeral('user-code', record.userCode);
    return true;
  }

  /** Takes a decided authorization (single use: exactly one poll gets the tokens). */
  redeem(deviceId: string): Promise<DeviceRecord | undefined> {
    return this.store.takeEphemeral<DeviceRecord>('device', deviceId);
  }
}
