import { hashCredential } from '../../core/token-format.js';
import type { GrantedLogin } from './granted-login.js';

/**
 * A device authorization (RFC 8628) in flight. Stored under the hash of its device_code (namespace
 * `device`); the user code maps to that key (namespace `user-code`). Both expire after
 * `issuer.cli.deviceCodeTTL`.
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

/** Store key of a device record: the hash of its device_code. */
export function deviceKey(deviceCode: string): string {
  return hashCredential(deviceCode);
}
