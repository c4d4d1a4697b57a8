import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/logger.js';
import { REDACTED, redactCredentials, redactLogFields } from '../../src/core/redact.js';
import { generateCredential } from '../../src/core/token-format.js';

function capture(): { lines: string[]; logger: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  return {
    lines,
    logger: createLogger({ level: 'trace', destination: { write: (l: string) => lines.push(l) } }),
  };
}

describe('log redaction', () => {
  const token = generateCredential('access');
  const refresh = generateCredential('refresh');

  it.each([
    ['a top-level token field', { token }],
    ['a nested refresh token', { grant: { refresh_token: refresh } }],
    ['an authorization header', { req: { headers: { authorization: `Bearer ${token}` } } }],
    ['a cookie header, any case', { headers: { Cookie: `session=${token}` } }],
    ['an array of objects', { items: [{ code: token }] }],
    ['a credential inside free text', { reason: `could not use ${token} because` }],
    ['a credential in the message', 'message'],
  ])('censors %s', (_name, fields) => {
    const { lines, logger } = capture();
    if (fields === 'message') logger.info(`presented ${refresh}`);
    else logger.info(fields as Record<string, unknown>, 'event');
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain(token.slice(4));
    expect(lines[0]).not.toContain(refresh.slice(6));
    expect(lines[0]).toContain(REDACTED);
  });

  it('scrubs an error message', () => {
    const { lines, logger } = capture();
    logger.error({ err: new Error(`bad token ${token}`) }, 'failed');
    expect(lines[0]).not.toContain(token.slice(4));
    expect(JSON.parse(lines[0] as string).err.message).toBe(`bad token kob_${REDACTED}`);
  });

  it('keeps ordinary fields as they are', () => {
    const fields = { event: 'review', result: 'authenticated', username: 'jane@example.com', latencyMs: 0.4 };
    expect(redactLogFields(fields)).toEqual(fields);
    expect(redactCredentials('basically fine')).toBe('basically fine');
  });
});

describe('audit lines', () => {
  it('have the shape pino gives any line, with redaction applied', async () => {
    const { audit } = await import('../../src/core/logger.js');
    const fast = capture();
    const token = generateCredential('access');
    audit(fast.logger, 'review', {
      result: 'authenticated',
      username: 'jane@example.com',
      latencyMs: 0.42,
      ok: true,
      skipped: undefined,
      token,
      reason: `echoed ${token}`,
    });
    const general = capture();
    general.logger.info(
      {
        audit: true,
        event: 'review',
        result: 'authenticated',
        username: 'jane@example.com',
        latencyMs: 0.42,
        ok: true,
        token,
        reason: `echoed ${token}`,
      },
      'review',
    );
    const a = JSON.parse(fast.lines[0] as string);
    const b = JSON.parse(general.lines[0] as string);
    expect(Math.abs(a.time - b.time)).toBeLessThan(1000);
    expect({ ...a, time: 0 }).toEqual({ ...b, time: 0 });
    expect(Object.keys(a)).toEqual(Object.keys(b));
    expect(fast.lines[0]).not.toContain(token.slice(4));
    expect(a.token).toBe(REDACTED);
  });

  it('fall back to the general path for nested fields, still redacted', async () => {
    const { audit } = await import('../../src/core/logger.js');
    const { lines, logger } = capture();
    audit(logger, 'login', { user: { name: 'jane', password: 'hunter2-hunter2' } });
    const line = JSON.parse(lines[0] as string);
    expect(line).toMatchObject({ audit: true, event: 'login', user: { name: 'jane', password: REDACTED } });
  });

  it('respect the log level', async () => {
    const { audit } = await import('../../src/core/logger.js');
    const lines: string[] = [];
    audit(
      createLogger({ level: 'warn', destination: { write: (l: string) => lines.push(l) } }),
      'review',
      {},
    );
    expect(lines).toEqual([]);
  });
});
