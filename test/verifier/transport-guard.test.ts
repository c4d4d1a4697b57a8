import { describe, expect, it } from 'vitest';
import type { VerifierConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/core/logger.js';
import { createMetrics } from '../../src/http/metrics.js';
import type { MappingSet } from '../../src/mapping/types.js';
import type { TokenStore } from '../../src/store/index.js';
import { startVerifier } from '../../src/verifier/index.js';

/**
 * docs/design.md §6.5: plain HTTP only when `insecureHTTP` says so. The config schema already refuses a verifier
 * section without `tls`; the verifier itself must not fall back to plain HTTP when handed one anyway.
 */
describe('verifier transport', () => {
  it('refuses to start without tls unless insecureHTTP is set, instead of serving plain HTTP', async () => {
    const config = {
      listen: '127.0.0.1:0',
      path: '/authenticate',
      audiences: ['https://kubernetes.default.svc'],
      insecureHTTP: false,
      maxBodyBytes: 65_536,
    } as unknown as VerifierConfig;
    const outcome = await startVerifier({
      config,
      lookupAccessToken: async () => ({ status: 'unknown' }),
      mapping: {} as MappingSet,
      store: {} as TokenStore,
      metrics: createMetrics(),
      logger: createLogger({ level: 'silent' }),
    }).then(
      async (running) => {
        await running.close();
        return `started at ${running.url}`;
      },
      (err: Error) => err.message,
    );
    expect(outcome).toMatch(/verifier\.tls/);
  });
});
