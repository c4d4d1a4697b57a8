import type { ErrorCode } from '../core/errors.js';
/**
 * What a command may touch of the outside world, handed in by main() so tests can run commands
 * in-process with captured output and a chosen environment.
 */
export interface CliIO {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
  env: Record<string, string | undefined>;
  cwd: string;
}

/** A command: parses its own arguments, returns the process exit code. */
export type CommandRunner = (argv: string[], io: CliIO) => Promise<number>;

/** Thrown for bad command-line usage; main() prints the message and the command's usage, exit 2. */
export class UsageError extends Error {
  /** From the closed set; not a BridgeError subclass so the CLI fast path loads nothing outside the CLI. */
  readonly code: ErrorCode = 'ERR_USAGE';

  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
