import { systemClock } from '../../dist/core/clock.js';
import { createLogger } from '../../dist/core/logger.js';
import { createStore } from '../../dist/store/index.js';
import { TokenService } from '../../dist/tokens/index.js';

/**
 * Fills the store with `count` valid access tokens through the real TokenService, one session each,
 * carrying IdP-style claims: the verifier maps them with the configured rules at review time, as it
 * does for every token a login produced.
 */
export async function mintTokens(config, audience, count) {
  const logger = createLogger({ level: 'warn' });
  const store = createStore(config.store, { clock: systemClock, logger });
  const service = new TokenService({ store, clock: systemClock, config: config.tokens });
  const tokens = [];
  try {
    for (let batch = 0; batch < count; batch += 50) {
      const minted = await Promise.all(
        Array.from({ length: Math.min(50, count - batch) }, async (_, j) => {
          const n = batch + j;
          const email = `user${n}@example.com`;
          const session = await service.createSession({
            identity: {
              kind: 'claims',
              upstream: 'bench',
              claims: { sub: `sub-${n}`, email, email_verified: true, groups: ['dev', `team-${n % 10}`] },
            },
            username: email,
            source: 'admin',
            description: 'benchmark',
          });
          return (await service.issueAccessToken(session, [audience])).token;
        }),
      );
      tokens.push(...minted);
    }
  } finally {
    await store.close();
  }
  return tokens;
}

/**
 * A long-lived TokenService on its own store, as an issuer holds one (the soak revokes through it
 * while Redis fails over); its log lines are kept in `log`, each with `seenAt` (ms).
 */
export function openTokenService(config) {
  const log = [];
  const logger = createLogger({
    level: 'info',
    destination: { write: (line) => void log.push({ ...JSON.parse(line), seenAt: Date.now() }) },
  });
  const store = createStore(config.store, { clock: systemClock, logger });
  return { log, store, service: new TokenService({ store, clock: systemClock, config: config.tokens }) };
}
