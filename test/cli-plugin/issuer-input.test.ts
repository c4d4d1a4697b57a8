import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectToIssuer, toPluginError } from '../../src/cli/plugin/issuer-connection.js';
import { printable } from '../../src/cli/plugin/terminal-text.js';
import { refreshTokens } from '../../src/cli/plugin/token-refresh.js';

/**
 * A hostile issuer on loopback: oversized metadata, oversized token responses, megabyte tokens and
 * escape sequences in its error descriptions. The plugin must refuse the sizes with a clear error and
 * print none of the control characters.
 */
type Behaviour = { discoveryPadding: number; token: () => { status: number; body: string } };

let server: Server;
let base: string;
const behaviour: Behaviour = { discoveryPadding: 0, token: () => ({ status: 500, body: '{}' }) };
/** How many bytes the server managed to send of the last response (the client stops reading early). */
let lastBytesSent = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', base);
    let status = 200;
    let body: string;
    if (url.pathname.startsWith('/.well-known/')) {
      body = JSON.stringify({
        issuer: base,
        authorization_endpoint: `${base}/authorize`,
        token_endpoint: `${base}/token`,
        device_authorization_endpoint: `${base}/device`,
        userinfo_endpoint: `${base}/userinfo`,
        padding: 'x'.repeat(behaviour.discoveryPadding),
      });
    } else {
      ({ status, body } = behaviour.token());
    }
    res.writeHead(status, { 'content-type': 'application/json' });
    // Streamed in chunks without a content-length, so the cap must apply while reading.
    const bytes = Buffer.from(body);
    let offset = 0;
    const pump = () => {
      while (offset < bytes.length) {
        const chunk = bytes.subarray(offset, offset + 16 * 1024);
        offset += chunk.length;
        lastBytesSent = offset;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    res.on('error', () => undefined);
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const connect = () => connectToIssuer({ issuer: base, clientId: 'kube-oidc-bridge' });

describe('response size limits', () => {
  it('a discovery document over 1 MiB is refused while reading, with a clear error', async () => {
    behaviour.discoveryPadding = 50 * 1024 * 1024;
    await expect(connect()).rejects.toThrow(
      /cannot reach the issuer .*: the issuer's response from .*\/\.well-known\/.* is larger than 1024 KiB; refusing it/,
    );
    expect(lastBytesSent).toBeLessThan(50 * 1024 * 1024);
  });
  it('a discovery document just under 1 MiB is accepted', async () => {
    behaviour.discoveryPadding = 1000 * 1024;
    await expect(connect()).resolves.toBeDefined();
  });
  it('a token response over 64 KiB is refused', async () => {
    behaviour.discoveryPadding = 0;
    const config = await connect();
    behaviour.token = () => ({
      status: 200,
      body: JSON.stringify({
        access_token: 'kob_x',
        token_type: 'Bearer',
        expires_in: 60,
        junk: 'y'.repeat(70_000),
      }),
    });
    await expect(refreshTokens(config, 'kob_refresh', undefined, () => 0)).rejects.toThrow(
      /larger than 64 KiB; refusing it/,
    );
  });
  it('an access token over 8 KiB is refused, not cached or printed', async () => {
    const config = await connect();
    behaviour.token = () => ({
      status: 200,
      body: JSON.stringify({
        access_token: `kob_${'a'.repeat(20_000)}`,
        token_type: 'Bearer',
        expires_in: 60,
      }),
    });
    await expect(refreshTokens(config, 'kob_refresh', undefined, () => 0)).rejects.toThrow(
      /an access token of 20004 bytes \(more than 8192\); refusing it/,
    );
  });
  it('an access token with a space or control character is refused', async () => {
    const config = await connect();
    behaviour.token = () => ({
      status: 200,
      body: JSON.stringify({ access_token: 'kob_a b\u001b[31m', token_type: 'Bearer', expires_in: 60 }),
    });
    await expect(refreshTokens(config, 'kob_refresh', undefined, () => 0)).rejects.toThrow(
      /not a valid Bearer token/,
    );
  });
});

describe('server text reaching the terminal', () => {
  const hostile = 'nope \u001b]52;c;ZWNobyBwd25lZA==\u0007 \u001b[2J\u001b[31mred\u009b0m\r\nforged line';

  it('an error_description with ANSI/OSC escapes loses every control character', async () => {
    const config = await connect();
    behaviour.token = () => ({
      status: 400,
      body: JSON.stringify({ error: 'invalid_request\u001b[0m', error_description: hostile }),
    });
    const error = await refreshTokens(config, 'kob_refresh', undefined, () => 0).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(message).toContain('invalid_request[0m (nope ]52;c;ZWNobyBwd25lZA== [2J[31mred0mforged line)');
  });
  it('an error redirect to the loopback receiver keeps the issuer error and description', () => {
    const params = new URLSearchParams({
      error: 'invalid_target',
      error_description: 'unknown\u001b[1m audience',
    });
    const error = toPluginError(
      new oidc.AuthorizationResponseError('x', { cause: params }),
      'browser login failed',
    );
    expect(error.message).toBe('browser login failed: invalid_target (unknown[1m audience)');
  });
  it('printable caps the length', () => {
    expect(printable('a'.repeat(600))).toHaveLength(501);
  });
});
