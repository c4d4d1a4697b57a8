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
