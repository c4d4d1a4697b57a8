import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/core/logger.js';
import { type RunningServices, startServices } from '../../src/server/index.js';
import { tokenReviewRequestBody } from '../support/apiserver-webhook-client.js';
import { createCertWorkspace } from '../support/certs.js';
import { startTestRedis, type TestRedis } from '../support/redis-server.js';
import { postRaw } from './https-post.js';
import { createVerifierPki, type VerifierPki, verifierConfig } from './verifier-fixture.js';

/**
 * docs/design.md §6.2 and §7: the logs of a verifier run never contain a token (not in audit lines, not in
 * error messages, not in refused bodies), `authorization` is redacted, and every review request
 * leaves exactly one audit line with who, which session, the result and the latency.
 */

const certs = createCertWorkspace();
const dir = mkdtempSync(join(tmpdir(), 'kob-logging-'));
const lines: string[] = [];
let pki: VerifierPki;
let redis: TestRedis;
let services: RunningServices;

beforeAll(async () => {
  pki = createVerifierPki(certs);
  redis = await startTestRedis();
  const config = parseConfig(verifierConfig({ redisUrl: redis.url, pki }), { env: {}, baseDir: dir });
  const logger = createLogger({ level: 'debug', destination: { write: (line: string) => lines.push(line) } });
  services = await startServices(config, { env: {}, logger });
});

afterAll(async () => {
  await services?.close();
  await redis?.close();
  certs.dispose();
  rmSync(dir, { recursive: true, force: true });
});

function parsedLines(): Record<string, unknown>[] {
  return lines.flatMap((l) => l.split('\n').filter(Boolean)).map((l) => JSON.parse(l));
}

describe('verifier logs', () => {
  it('never contain a token, redact authorization, and hold one audit line per review', async () => {
    const session = await services.tokens.createSession({
      identity: { kind: 'claims', upstream: '', claims: { email: 'carol@example.com', groups: ['dev'] } },
      username: 'carol@example.com',
      source: 'admin',
    });
    const { token } = await services.tokens.issueAccessToken(session, ['https://kubernetes.default.svc']);
    const other = await services.tokens.issueAccessToken(session, ['https://elsewhere.example']);
    const post = (body: string, headers?: Record<string, string>) =>
      postRaw(`${services.verifierURL}/authenticate`, body, {
        ca: pki.serverCA.cert,
        client: pki.apiserver,
        headers,
      });
    const body = tokenReviewRequestBody('v1', 34, token, ['https://kubernetes.default.svc']);

    const requests: [string, () => Promise<unknown>][] = [
      ['authenticated', () => post(body, { authorization: `Bearer ${token}` })],
      [
        'audience',
        () => post(tokenReviewRequestBody('v1', 34, other.token, ['https://kubernetes.default.svc'])),
      ],
      ['malformed', () => post(tokenReviewRequestBody('v1beta1', 33, `${token} trailing`, []))],
      ['bad_request', () => post(body.replace('"TokenReview"', '"Other"'))],
      [
        'unavailable',
        async () => {
          await redis.stop();
          await post(body);
          await redis.start();
        },
      ],
    ];
    for (const [, send] of requests) await send();
    services.logger.info({ req: { headers: { authorization: `Bearer ${token}` } } }, 'request headers');

    const all = lines.join('');
    expect(all).not.toContain(token);
    expect(all).not.toContain(other.token);
    // Not even the random part of a token (e.g. a prefix stripped by some formatter).
    expect(all).not.toContain(token.slice(4, 30));

    const entries = parsedLines();
    const headerLine = entries.find((e) => e.msg === 'request headers') as {
      req: { headers: { authorization: string } };
    };
    expect(headerLine.req.headers.authorization).toBe('[redacted]');

    const audits = entries.filter((e) => e.audit === true && e.event === 'review');
    expect(audits.map((a) => a.result)).toEqual(requests.map(([result]) => result));
    for (const a of audits) expect(typeof a.latencyMs).toBe('number');
    expect(audits[0]).toMatchObject({
      result: 'authenticated',
      version: 'v1',
      sessionId: session.id,
      username: 'carol@example.com',
      client: 'kube-apiserver',
    });
    expect(audits[1]).toMatchObject({ result: 'audience', sessionId: session.id });
    expect(audits[2]).toMatchObject({
      result: 'malformed',
      version: 'v1beta1',
      reason: 'token contains a space',
    });
  });
});
