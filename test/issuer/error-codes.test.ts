import { Router } from '@koa/router';
import Koa from 'koa';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/io.js';
import { LockTimeoutError } from '../../src/cli/plugin/file-lock.js';
import { ManualClock } from '../../src/core/clock.js';
import { BridgeError, type ErrorCode, StoreUnavailableError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/logger.js';
import { HTTP_STATUS_BY_CODE } from '../../src/http/error-status.js';
import { ERROR_STATUS, type ProblemKind, RETRY_AFTER_SECONDS } from '../../src/issuer/error-table.js';
import { problemPages, renderProblemPage } from '../../src/issuer/index.js';
import { oauthInfrastructureErrors } from '../../src/issuer/oauth/oauth-error.js';
import { createMemoryStore } from '../../src/store/index.js';
import { TokenService } from '../../src/tokens/index.js';

/** One closed set of error codes, every one of them used, and each rendered for what it means. */

const silent = createLogger({ level: 'fatal', destination: { write: () => true } });

interface Answer {
  status: number;
  retryAfter: string | null;
  body: string;
}

/** What one route answers behind the HTML problem pages or the JSON endpoints' error answers. */
async function answerOf(face: 'page' | 'json', handler: Koa.Middleware): Promise<Answer> {
  const app = new Koa();
  app.silent = true;
  const router = new Router();
  router.use(face === 'page' ? problemPages(silent) : oauthInfrastructureErrors(silent));
  router.get('/', handler);
  app.use(router.routes());
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const { port } = server.address() as { port: number };
    const response = await fetch(`http://127.0.0.1:${port}/`);
    return {
      status: response.status,
      retryAfter: response.headers.get('retry-after'),
      body: await response.text(),
    };
  } finally {
    server.close();
  }
}

function pageFor(err: () => Promise<unknown>): Promise<Answer> {
  return answerOf('page', async () => {
    await err();
  });
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

  it('a broken store: 503 with the one Retry-After, on a page and at a JSON endpoint alike', async () => {
    const broken = async () => {
      throw new StoreUnavailableError('redis is down');
    };
    const page = await pageFor(broken);
    const json = await answerOf('json', broken);
    for (const answer of [page, json]) {
      expect(answer.status).toBe(503);
      expect(answer.retryAfter).toBe(String(RETRY_AFTER_SECONDS.unavailable));
      expect(answer.body).not.toContain('redis is down');
    }
    expect(page.body).toContain('Sign-in is temporarily unavailable');
    expect(JSON.parse(json.body)).toMatchObject({ error: 'temporarily_unavailable' });
  });

  it('a rate limit: 429 with Retry-After 60, on a page and at a JSON endpoint alike', async () => {
    const limited = async () => {
      throw new BridgeError('ERR_RATE_LIMITED', 'too many login attempts from this address');
    };
    for (const answer of [await pageFor(limited), await answerOf('json', limited)]) {
      expect(answer.status).toBe(429);
      expect(answer.retryAfter).toBe('60');
    }
  });

  it('every problem page answers the status the error table gives its kind, Retry-After only on 429/503', async () => {
    const kinds = Object.keys(ERROR_STATUS).filter((k) => /^[a-z-]+$/.test(k)) as ProblemKind[];
    expect(kinds).toEqual(expect.arrayContaining(['login-expired', 'unknown-upstream', 'form-forbidden']));
    for (const kind of kinds) {
      const page = await answerOf('page', (ctx) => renderProblemPage(ctx, kind));
      expect(page.status, kind).toBe(ERROR_STATUS[kind]);
      expect(page.retryAfter !== null, kind).toBe(page.status === 429 || page.status === 503);
      expect(page.body, kind).toContain('class="notice problem"');
    }
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
    // An unknown sign-in option is an outcome of the login start, not an error.
    expect(codes).not.toContain('ERR_NOT_FOUND');
  });
});
