import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { promisify } from 'node:util';
import type { StaticPassword } from './compose-dex-config.js';
import { freePort } from './free-port.js';
import { goToolPath } from './go-tools.js';
import { startLoginConsentApp } from './hydra-login-consent.js';
import { until } from './until.js';

/**
 * ORY Hydra v2 (built from its Go module by tools/build.sh, see tools/hydra/) on free loopback ports:
 * a second, independent OpenID Provider for the tests next to oidc-provider. In-memory SQLite, plain
 * HTTP (`--dev`), no telemetry; users and consent come from the login and consent app in
 * hydra-login-consent.ts. Clients are registered through Hydra's admin API.
 */
export interface TestHydra {
  /** The issuer, as Hydra's discovery document states it (`http://127.0.0.1:PORT`). */
  issuer: string;
  /** The admin API (clients, login and consent requests). */
  adminURL: string;
  /** Hydra's own log lines (stdout and stderr), for diagnosing a failed run. */
  logs: string[];
  /** Registers an OAuth 2.0 client for the authorization code flow (with refresh tokens). */
  registerClient(client: HydraClient): Promise<void>;
  close(): Promise<void>;
}

export interface HydraClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
}

const run = promisify(execFile);
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function startHydra(options: { users: StaticPassword[] }): Promise<TestHydra> {
  const binary = goToolPath('hydra');
  const [publicPort, adminPort] = [await freePort(), await freePort()];
  const issuer = `http://127.0.0.1:${publicPort}`;
  const adminURL = `http://127.0.0.1:${adminPort}`;
  const app = await startLoginConsentApp({ adminURL, users: options.users });
  const logs: string[] = [];
  const child = spawn(binary, ['serve', 'all', '--dev', '--sqa-opt-out'], {
    env: {
      PATH: process.env['PATH'],
      DSN: 'memory',
      SERVE_PUBLIC_HOST: '127.0.0.1',
      SERVE_PUBLIC_PORT: String(publicPort),
      SERVE_ADMIN_HOST: '127.0.0.1',
      SERVE_ADMIN_PORT: String(adminPort),
      URLS_SELF_ISSUER: issuer,
      URLS_LOGIN: `${app.url}/login`,
      URLS_CONSENT: `${app.url}/consent`,
      SECRETS_SYSTEM: randomBytes(32).toString('base64url'),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  for (const stream of [child.stdout, child.stderr]) {
    stream
      ?.setEncoding('utf8')
      .on('data', (chunk: string) => logs.push(...chunk.split('\n').filter(Boolean)));
  }

  const exited = () => child.exitCode !== null || child.signalCode !== null;
  async function close(): Promise<void> {
    if (!exited()) {
      const gone = once(child, 'exit');
      child.kill('SIGTERM');
      await gone;
    }
    running.delete(child);
    await app.close();
  }

  try {
    await until(
      'Hydra to be ready',
      async () => {
        if (exited()) return true;
        const [admin, discovery] = await Promise.all([
          fetch(`${adminURL}/health/ready`),
          fetch(`${issuer}/.well-known/openid-configuration`),
        ]);
        return admin.ok && discovery.ok;
      },
      30_000,
    );
    if (exited()) throw new Error(`hydra exited with ${child.exitCode ?? child.signalCode}`);
  } catch (err) {
    await close();
    throw new Error(`Hydra did not start:\n${logs.slice(-5).join('\n')}`, { cause: err });
  }

  return {
    issuer,
    adminURL,
    logs,
    async registerClient(client) {
      // Hydra's own CLI against the admin API: the command docs/issuer.md gives admins.
      const args = ['create', 'oauth2-client', '--endpoint', adminURL, '--format', 'json'];
      args.push('--id', client.clientId, '--secret', client.clientSecret);
      args.push('--grant-type', 'authorization_code,refresh_token', '--response-type', 'code');
      args.push('--scope', 'openid,offline_access,email,profile,groups');
      args.push('--token-endpoint-auth-method', 'client_secret_basic');
      for (const uri of client.redirectUris) args.push('--redirect-uri', uri);
      const { stdout } = await run(binary, args, { env: { PATH: process.env['PATH'] } });
      const created = JSON.parse(stdout) as { client_id?: string };
      if (created.client_id !== client.clientId) throw new Error(`Hydra created ${created.client_id}`);
    },
    close,
  };
}
