import { resolve } from 'node:path';
import { type Config, loadConfigFile } from '../../config/index.js';
import { systemClock } from '../../core/clock.js';
import { createLogger, type Logger } from '../../core/logger.js';
import { createStore, type TokenStore } from '../../store/index.js';
import { TokenService } from '../../tokens/index.js';
import type { CliIO } from '../io.js';

/** What the admin commands (token mint/revoke/list) work with: the config, the token service, a logger. */
export interface AdminContext {
  config: Config;
  tokens: TokenService;
  /** The store itself, for what only an admin does to it (replaying revocations). */
  store: TokenStore;
  /** JSON log lines (audit events) go to stderr; stdout stays for the command's own output. */
  logger: Logger;
}

/** Loads `--config` relative to the working directory the command was started in. */
export function loadConfigForCommand(file: string, io: CliIO): Config {
  return loadConfigFile(resolve(io.cwd, file), io.env);
}

/**
 * Opens the configured store for one admin command and always closes it, so the process exits as
 * soon as the command is done.
 */
export async function withAdminContext<T>(
  config: Config,
  io: CliIO,
  action: (context: AdminContext) => Promise<T>,
): Promise<T> {
  const logger = createLogger({
    level: config.logging.level,
    destination: { write: (line: string) => void io.stderr.write(line) },
  });
  const { accessTokenTTL, refreshTokenTTL, maxSessionLifetime } = config.tokens;
  const store = createStore(config.store, {
    clock: systemClock,
    logger,
    revocationJournalTTL: Math.max(accessTokenTTL, refreshTokenTTL, maxSessionLifetime),
  });
  try {
    const tokens = new TokenService({ store, clock: systemClock, config: config.tokens });
    return await action({ config, tokens, store, logger });
  } finally {
    await store.close();
  }
}
