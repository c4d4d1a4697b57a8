import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The issuer's shape: use cases take plain input and return an outcome (no koa), only models name
 * the store's ephemeral namespaces, and HTTP statuses are decided by the one error table.
 */

const root = fileURLToPath(new URL('../../src/issuer/', import.meta.url));
const files = (readdirSync(root, { recursive: true }) as string[])
  .filter((f) => f.endsWith('.ts'))
  .map((f) => ({ path: relative(root, join(root, f)), text: readFileSync(join(root, f), 'utf8') }));
const text = (path: string) => files.find((f) => f.path === path)?.text ?? '';

const USE_CASES = [
  'login/begin.ts',
  'login/callback.ts',
  'login/finish.ts',
  'oauth/authorization-request.ts',
  'oauth/device-confirmation.ts',
  'session/web-session.ts',
  'grants/authorization-code.ts',
  'grants/device.ts',
  'grants/refresh.ts',
];

describe('the issuer layout', () => {
  it.each(USE_CASES)('%s is a use case: no koa, no request context', (path) => {
    const source = text(path);
    expect(source).toMatch(/export (async )?function \w+\(\s*deps: \w+,/);
    expect(source).not.toMatch(/from '(koa|@koa\/router)'/);
    expect(source).not.toMatch(/\bctx\b/);
  });

  it('only models name the ephemeral store namespaces', () => {
    const naming = files
      .filter((f) => /\.(put|get|take|update|swap)Ephemeral(IfAbsent)?\(/.test(f.text))
      .map((f) => f.path);
    expect(naming.length).toBeGreaterThan(0);
    expect(naming.filter((path) => !path.startsWith('models/'))).toEqual([]);
  });

  it('no file but the error table writes an error status', () => {
    const literal = /status\s*[=:]\s*[45]\d\d|\.status\s*=\s*[45]|'Retry-After',\s*'/;
    expect(files.filter((f) => literal.test(f.text)).map((f) => f.path)).toEqual([]);
    expect(text('error-table.ts')).toMatch(/ERROR_STATUS: Record<OAuthErrorCode \| ProblemKind, number>/);
  });

  it('keeps every file small', () => {
    const long = files.filter((f) => f.text.split('\n').length > 250).map((f) => f.path);
    expect(long).toEqual([]);
  });
});
