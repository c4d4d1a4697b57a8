/**
 * The closed set of error codes this project raises. Callers `switch (err.code)`; the HTTP edge and the
 * CLI decide status codes and exit codes from it in one place each.
 *
 * Expected outcomes (unknown token, audience mismatch, rule refusal) are *values*, not errors: these
 * codes are for broken input, broken configuration and broken infrastructure.
 */
export type ErrorCode =
  /** The configuration file (or a rule in it) is invalid: ConfigError lists every problem. */
  | 'ERR_CONFIG_INVALID'
  /** Broken input from a client (a form that is not one, an impossible session lifetime). */
  | 'ERR_INPUT_INVALID'
  /** The command line was used wrongly: UsageError, exit status 2. */
  | 'ERR_USAGE'
  | 'ERR_STORE_UNAVAILABLE'
  | 'ERR_UPSTREAM'
  | 'ERR_OAUTH'
  | 'ERR_RATE_LIMITED'
  /** The session a credential would be minted for has ended (revoked or past its lifetime). */
  | 'ERR_SESSION_ENDED'
  /** Another kube-oidc-bridge login held the lock for too long: LockTimeoutError. */
  | 'ERR_LOCK_TIMEOUT'
  | 'ERR_PLUGIN'
  | 'ERR_INTERNAL';

/** Base class of every error this project throws on purpose. `cause` is kept for logs. */
export class BridgeError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BridgeError';
    this.code = code;
  }
}

/** One problem found in a configuration file, named by its path (`verifier.tls.cert`). */
export interface ConfigProblem {
  path: string;
  message: string;
}

/** Configuration is invalid; `problems` lists every problem found, not just the first. */
export class ConfigError extends BridgeError {
  readonly problems: ConfigProblem[];

  constructor(problems: ConfigProblem[], options?: { cause?: unknown }) {
    super('ERR_CONFIG_INVALID', ConfigError.describe(problems), options);
    this.name = 'ConfigError';
    this.problems = problems;
  }

  static describe(problems: ConfigProblem[]): string {
    const lines = problems.map((p) => `  ${p.path || '(root)'}: ${p.message}`);
    return `invalid configuration:\n${lines.join('\n')}`;
  }
}

/** The token store could not be reached or answered garbage. Never turned into a denial or a success. */
export class StoreUnavailableError extends BridgeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_STORE_UNAVAILABLE', message, options);
    this.name = 'StoreUnavailableError';
  }
}

export function isBridgeError(err: unknown): err is BridgeError {
  return err instanceof BridgeError;
}
