import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { HttpBrowser, signInThroughIdp } from '../support/oidc-provider.js';
import { freePort } from './issuer-fixture.js';

/** `kube-oidc-bridge demo` (what `npm start` runs), in-process: banner, sign-in, the printed curl's request. */

const root = resolve(import.meta.dirname, '../..');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe('kube-oidc-bridge demo', () => {
  it('prints the URL, the demo login and a loud banner; the sign-in yields a token the printed review accepts', async () => {
    let out = '';
    const ports = [await freePort(), await freePort(), await freePort()].map(String);
    const running = runCli(
      [
        'demo',
        '--port',
        ports[0] as string,
        '--verifier-port',
        ports[1] as string,
        '--idp-port',
        ports[2] as string,
      ],
      {
        stdout: { write: (s: string) => (out += s) },
        stderr: { write: () => true },
        env: {},
        cwd: root,
      },
    );
    await expect.poll(() => out, { timeout: 20_000 }).toContain('Stop with Ctrl-C');
    expect(out).toContain('DEMO — NOT FOR PRODUCTION');
    const url = /Open (http:\/\/127\.0\.0\.1:\d+)\//.exec(out)?.[1] as string;
    const username = /username: (\S+)/.exec(out)?.[1] as string;
    const password = /password: (\S+)/.exec(out)?.[1] as string;
    const curl = /curl -s (\S+) /.exec(out)?.[1] as string;

    const done = await signInThroughIdp(new HttpBrowser(), `${url}/login/demo`, { username, password });
    const token = /<pre id="token"[^>]*>(kob_[^<]+)<\/pre>/.exec(done.body)?.[1] as string;
    const data = /-d '(.+)'$/m.exec(out)?.[1]?.replace(`'"$TOKEN"'`, token) as string;
    const answer = await fetch(curl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: data,
    });
    expect(await answer.json()).toMatchObject({
      status: {
        authenticated: true,
        user: { username: 'demo@example.com', groups: ['demo:developers', 'demo:viewers'] },
      },
    });

    process.emit('SIGTERM');
    await expect(running).resolves.toBe(0);
  });

  it('production code never starts the demo IdP: only the demo command imports src/demo', () => {
    const importers = filesUnder(join(root, 'src'))
      .filter((f) => f.endsWith('.ts') && !f.includes(`${join('src', 'demo')}`))
      .filter((f) => /from '[./]+\/demo\//.test(readFileSync(f, 'utf8')))
      .map((f) => f.slice(root.length + 1));
    expect(importers).toEqual(['src/cli/commands/demo.ts']);
  });
});
