import { parseDuration } from '../core/duration.js';
import { z } from './zod.js';

/** `15m`, `12h`, `90s` or a number of seconds → seconds. */
export const duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const seconds = parseDuration(value);
  if (seconds === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `not a duration: ${JSON.stringify(value)} (use e.g. 90s, 15m, 12h)`,
    });
    return z.NEVER;
  }
  return seconds;
});

/**
 * A secret, written inline (dev only), as a file path (Kubernetes Secret mount) or an environment
 * variable name. Resolved to its value by the loader; exactly one source must be given.
 */
export class SecretRef {
  // Nominal: without it any object with `source`/`ref` would read as a SecretRef in `Resolved<T>`.
  declare private readonly secretRefBrand: never;

  constructor(
    readonly source: 'value' | 'file' | 'env',
    readonly ref: string,
    /** When set, the resolved value must have at least this many bytes (checked by the loader). */
    readonly minBytes?: number,
  ) {}
}

export const secretRef = z
  .union([
    z.string().min(1),
    z
      .strictObject({
        value: z.string().min(1).optional(),
        file: z.string().min(1).optional(),
        env: z.string().min(1).optional(),
      })
      .refine((s) => [s.value, s.file, s.env].filter((v) => v !== undefined).length === 1, {
        message: 'give exactly one of value, file or env',
      }),
  ])
  .transform((s) => {
    if (typeof s === 'string') return new SecretRef('value', s);
    if (s.file !== undefined) return new SecretRef('file', s.file);
    if (s.env !== undefined) return new SecretRef('env', s.env);
    return new SecretRef('value', s.value as string);
  });

/** Key material shorter than this is refused: it could be guessed offline from one sealed value. */
export const MIN_SECRET_BYTES = 32;

/**
 * A secret used as key material: at least `minBytes` bytes. An inline value is checked here; one from
 * a file or the environment when the loader has read it. Either way `config check` names it.
 */
export function keyMaterial(minBytes = MIN_SECRET_BYTES) {
  return secretRef
    .transform((s) => new SecretRef(s.source, s.ref, minBytes))
    .refine((s) => s.source !== 'value' || Buffer.byteLength(s.ref, 'utf8') >= minBytes, {
      message: `must be at least ${minBytes} bytes (e.g. openssl rand -base64 48)`,
    });
}

/** A file the process must read (certificates, CA bundles): made absolute against the config's folder. */
export class FilePathRef {
  // Nominal: without it any object with a `path` (e.g. the verifier section) would resolve to a string.
  declare private readonly filePathRefBrand: never;

  constructor(readonly path: string) {}
}

export const filePath = z
  .string()
  .min(1)
  .transform((p) => new FilePathRef(p));

/** `host:port`, `[::1]:port` or `:port`. */
export const listenAddress = z.string().regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]*):\d{1,5}$/, {
  message: 'expected host:port, e.g. 127.0.0.1:8443 or [::1]:8443 or :8443',
});

export const httpUrl = z.url({ protocol: /^https?$/, message: 'expected an http(s) URL' });
