import { createServer } from 'node:http';
import Koa from 'koa';
import { describe, expect, it } from 'vitest';
import { BridgeError, type ErrorCode, StoreUnavailableError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/logger.js';
import { errorMiddleware, listenURL, parseListenAddress, startServer } from '../../src/http/index.js';
import { postRaw } from '../verifier/https-post.js';

describe('parseListenAddress', () => {
  it.each([
    { text: '127.0.0.1:8443', want: { host: '127.0.0.1', port: 8443 } },
    { text: '[::1]:8443', want: { host: '::1', port: 8443 } },
    { text: 'localhost:0', want: { host: 'localhost', port: 0 } },
    { text: ':9090', want: { host: '', port: 9090 } },
  ])('$text', ({ text, want }) => {
    expect(parseListenAddress(text)).toEqual(want);
  });

  it.each(['8443', '127.0.0.1', '127.0.0.1:70000', '::1:8443', 'host:port'])('refuses %s', (text) => {
    expect(() => parseListenAddress(text)).toThrow(/invalid listen address/);
  });

  it('formats IPv6 addresses in brackets', () => {
    expect(listenURL('https', { address: '::1', port: 1 })).toBe('https://[::1]:1');
    expect(listenURL('http', { address: '127.0.0.1', port: 2 })).toBe('http://127.0.0.1:2');
  });
});

describe('errorMiddleware', () => {
  async function statusFor(err: unknown) {
    const app = new Koa();
    app.silent = true;
    app.use(errorMiddleware(createLogger({ level: 'silent' })));
    app.use(() => {
      throw err;
    });
    const server = await startServer(createServer(app.callback()), {
      protocol: 'http',
      listen: '127.0.0.1:0',
    });
    try {
      return await postRaw(`${server.url}/`, '', { method: 'GET' });
    } finally {
      await server.close();
    }
  }

  it.each<{ code: ErrorCode; status: number }>([
    { code: 'ERR_INPUT_INVALID', status: 400 },
    { code: 'ERR_RATE_LIMITED', status: 429 },
    { code: 'ERR_UPSTREAM', status: 502 },
    { code: 'ERR_INTERNAL', status: 500 },
  ])('$code → $status', async ({ code, status }) => {
    const answer = await statusFor(new BridgeError(code, 'the detail'));
    expect(answer.status).toBe(status);
    expect(JSON.parse(answer.body).error).toBe(code);
  });

  it('a store failure is a 503 with Retry-After and no internal detail', async () => {
    const answer = await statusFor(new StoreUnavailableError('redis at 10.0.0.1 refused'));
    expect(answer.status).toBe(503);
    expect(answer.headers['retry-after']).toBe('1');
    expect(answer.body).not.toContain('10.0.0.1');
  });

  it('client errors show their message, unexpected errors do not', async () => {
    expect(
      JSON.parse((await statusFor(new BridgeError('ERR_INPUT_INVALID', 'bad field x'))).body).message,
    ).toBe('bad field x');
    const internal = await statusFor(new Error('secret internals'));
    expect(internal.status).toBe(500);
    expect(internal.body).not.toContain('secret internals');
  });
});
