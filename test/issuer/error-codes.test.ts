import { Router } from '@koa/router';
import Koa from 'koa';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/io.js';
import { LockTimeoutError } from '../../src/cli/plugin/file-lock.js';
import { ManualClock } from '../../src/core/clock.js';
import type { ErrorCode } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/logger.js';
import { HTTP_STATUS_BY_CODE } from '../../src/http/error-status.js';
import { problemPages } from '../../src/issuer/index.js';
import { createMemoryStore } from '../../src/store/index.js';
import { TokenService } from '../../src/tokens/index.js';

/** One closed set of error codes, every one of them used, and each rendered for what it means. */

async function pageFor(err: () => Promise<unknown>): Promise<{ status: number; body: string }> {
  const app = new Koa();
  const router = new Router();
  router.use(problemPages(createLogger({ level: 'fatal', destination: { write: () => true } })));
  router.get('/', async () => {
    await err();
  });
  app.use(router.routes());
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const { port } = server.address() as { port: number };
    const response = await fetch(`http://127.0.0.1:${port}/`);
    return { status: response.status, body: await response.text() };
  } finally {
    server.close();
  }
}

describe('error codes', () => {
  it('an ended session renders "This sign-in has expired", not "Unknown sign-in option"', async () => {
    const clock = new ManualClock();
    const tokens = new TokenService({
      store: createMemoryStore({ clock }),
      clock,
      config: { accessTokenTTL: 900, refreshTokenTTL: 3600, maxSessionLifetime: 60, refreshReuseGrace: 10 },
    });
    const session = await tokens.createSession({
      identity: { kind: 'static', user: { username: 'alice', groups: [], extra: {} } },
      username: 'alice',
      source: 'web',
    });
    clock.advance(60);
    const page = await pageFor(() => tokens.issueAccessToken(session, ['https://k8s.test']));
    expect(page.status).toBe(400);
    expect(page.body).toContain('This sign-in has expired');
    expect(page.body).not.toContain('Unknown sign-in option');
  });

  it('usage and lock errors belong to the set, with their own codes', () => {
    const usage = new UsageError('--x is required');
    const lock = new LockTimeoutError('/tmp/lock');
    const codes: ErrorCode[] = [usage.code, lock.code];
    expect(codes).toEqual(['ERR_USAGE', 'ERR_LOCK_TIMEOUT']);
    expect(Object.keys(HTTP_STATUS_BY_CODE)).toEqual(expect.arrayContaining(codes));
  });

  it('every code in the set has an HTTP status (the table is exhaustive by type)', () => {
    const codes = Object.keys(HTTP_STATUS_BY_CODE) as ErrorCode[];
    expect(codes).toContain('ERR_SESSION_ENDED');
    expect(codes).not.toContain('ERR_STORE_CONFLICT');
    expect(codes).not.toContain('ERR_LOGIN_STATE');
  });
});
