import { type DestinationStream, type Logger, pino } from 'pino';
import { redactCredentials, redactLogFields } from './redact.js';

export type { Logger } from 'pino';

/**
 * JSON logger with the project's redaction (redact.ts) applied to every line's fields and message.
 * Audit events are ordinary lines with `audit: true` and an `event` name (`review`, `login`, `mint`,
 * `refresh`, `revoke`), so one filter finds them all.
 */
export function createLogger(options: { level?: string; destination?: DestinationStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: 'kube-oidc-bridge' },
      formatters: {
        level: (label) => ({ level: label }),
        // pino skips formatters for child-logger bindings: pass fields per line, not through child().
        log: redactLogFields,
      },
      hooks: {
        // Free-text arguments are scrubbed too: library errors sometimes echo what they were given.
        logMethod(args, method) {
          const scrubbed = args.map((a) => (typeof a === 'string' ? redactCredentials(a) : a));
          method.apply(this, scrubbed as Parameters<typeof method>);
        },
      },
      serializers: {
        err: (err: Error) => ({
          type: err.name,
          message: redactCredentials(err.message),
          code: (err as { code?: unknown }).code,
        }),
      },
    },
    options.destination,
  );
}

/** Writes an audit event: `{audit: true, event, ...fields}`. Never pass a credential in `fields`. */
export function audit(logger: Logger, event: string, fields: Record<string, unknown>): void {
  logger.info({ audit: true, event, ...fields }, event);
}
