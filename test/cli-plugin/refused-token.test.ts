import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { recordHandedToken, wasHandedBefore } from '../../src/cli/plugin/refused-token.js';

const dir = mkdtempSync(join(tmpdir(), 'kob-handed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the record of tokens handed to kubectl processes', () => {
  it('remembers a token per parent process', () => {
    const file = join(dir, 'a.handed');
    expect(wasHandedBefore(file, 4242, 'kob_one')).toBe(false);
    recordHandedToken(file, 4242, 'kob_one');
    expect(wasHandedBefore(file, 4242, 'kob_one')).toBe(true);
    expect(wasHandedBefore(file, 4243, 'kob_one')).toBe(false);
  });

  it('a record past its size cap starts over instead of growing unread', () => {
    const file = join(dir, 'full.handed');
    writeFileSync(file, `${'1 0000000000000000\n'.repeat(4000)}`, { mode: 0o600 });
    expect(statSync(file).size).toBeGreaterThan(64 * 1024);
    recordHandedToken(file, 4242, 'kob_two');
    expect(statSync(file).size).toBeLessThan(100);
    expect(wasHandedBefore(file, 4242, 'kob_two')).toBe(true);
  });
});
