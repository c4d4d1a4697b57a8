import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { ConfigError } from '../../core/errors.js';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Key material shorter than this is refused: it could be guessed offline from one sealed value. */
export const MIN_KEY_BYTES = 32;

/**
 * Authenticated encryption (AES-256-GCM) for secrets at rest: upstream refresh tokens in sessions,
 * and the issuer's sealed cookies. The AES key is derived with HKDF-SHA256 from the configured key
 * material and a `purpose`, so one configured key never encrypts two kinds of data with the same AES
 * key. `context` is bound as additional data: a value sealed for one upstream does not open for another.
 *
 * Sealed format: `v1.` + base64url(iv ‖ ciphertext ‖ tag).
 */
export class SecretBox {
  readonly #key: Buffer;

  /**
   * @param keyMaterial the configured secret (≥ 32 bytes)
   * @param purpose what this box encrypts, e.g. `upstream-refresh-token`
   * @param configPath where the key comes from, for the error message
   */
  constructor(keyMaterial: string | Buffer, purpose: string, configPath = 'issuer.encryptionKey') {
    const material = typeof keyMaterial === 'string' ? Buffer.from(keyMaterial, 'utf8') : keyMaterial;
    if (material.length < MIN_KEY_BYTES) {
      throw new ConfigError([
        {
          path: configPath,
          message: `must be at least ${MIN_KEY_BYTES} bytes (e.g. openssl rand -base64 48)`,
        },
      ]);
    }
    this.#key = Buffer.from(hkdfSync('sha256', material, Buffer.alloc(0), `kube-oidc-bridge ${purpose}`, 32));
  }

  /** Encrypts `plaintext`; every call uses a fresh random IV. */
  seal(plaintext: string, context = ''): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${VERSION}.${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`;
  }

  /**
   * Decrypts a sealed value. Returns undefined when it was tampered with, sealed with another key or
   * context, or is not a sealed value at all (e.g. after a key rotation): the caller treats it as absent.
   */
  open(sealed: string, context = ''): string | undefined {
    if (!sealed.startsWith(`${VERSION}.`)) return undefined;
    const raw = Buffer.from(sealed.slice(VERSION.length + 1), 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
      return Buffer.concat([
        decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      return undefined;
    }
  }
}
