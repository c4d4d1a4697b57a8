import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfigText } from '../../src/config/index.js';
import { compileMappingSet } from '../../src/mapping/index.js';
import { COMPOSE_DEMO_PASSWORD, readComposeDexConfig } from '../support/compose-dex-config.js';

/**
 * docker-compose.yml, validated offline (no Docker engine here): Debian's docker-compose v1 parses it,
 * and the files it wires together agree with each other — the bridge's config loads with the compose
 * environment, Dex's config has what Dex needs, and the client, redirect URI, issuer and secret match.
 */

const root = resolve(import.meta.dirname, '../..');
const read = (file: string) => readFileSync(resolve(root, file), 'utf8');

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  user?: string;
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  networks?: Record<string, { aliases?: string[] }>;
}

const compose = parse(read('docker-compose.yml')) as {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
};
const dex = parse(read('deploy/dex/config.yaml')) as {
  issuer: string;
  storage: { type: string };
  web: { http: string };
  enablePasswordDB: boolean;
  staticPasswords: { email: string; hash: string; username: string; userID: string; groups?: string[] }[];
  staticClients: { id: string; secret: string; redirectURIs: string[] }[];
};
const bridge = compose.services['kube-oidc-bridge'] as ComposeService;
const bridgeConfig = parseConfigText(read('deploy/compose/config.yaml'), {
  env: bridge.environment ?? {},
  baseDir: resolve(root, 'deploy/compose'),
});

describe('docker-compose.yml', () => {
  it('passes `docker-compose config -q` (Debian docker-compose v1, offline)', async () => {
    const run = promisify(execFile);
    await expect(
      run('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], { cwd: root }),
    ).resolves.toBeDefined();
  });

  it('Redis persists: appendonly on, data on a named volume', () => {
    const redis = compose.services['redis'] as ComposeService;
    expect(redis.command?.join(' ')).toContain('--appendonly yes');
    expect(redis.volumes).toContain('redis-data:/data');
    expect(compose.volumes).toHaveProperty('redis-data');
  });

  it('the bridge is built from the repository Dockerfile and runs as a non-root user', () => {
    expect(bridge.build).toMatchObject({ context: '.', dockerfile: 'Dockerfile' });
    expect(bridge.user).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    const dockerfile = read('Dockerfile');
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).not.toMatch(/^USER (root|0)\b/m);
    expect(bridge.command).toEqual(['serve', '--config', '/etc/kube-oidc-bridge/config.yaml']);
  });

  it("the image's build stage copies every file `npm run build` reads", () => {
    const build = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts['build'];
    const inputs = [...(build ?? '').matchAll(/(?:-p |node )(\S+)/g)].map((m) => m[1] as string);
    expect(inputs).toContain('tsconfig.build.json');
    const copied = [...read('Dockerfile').matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) =>
      (m[1] as string).split(' '),
    );
    for (const input of inputs) expect(copied, input).toContain(input);
  });

  it("the bridge's config loads with the compose environment and its rules compile", async () => {
    expect(bridgeConfig.store.redis?.url).toBe('redis://redis:6379/0');
    await expect(compileMappingSet(bridgeConfig)).resolves.toBeDefined();
  });
});

describe('deploy/dex/config.yaml', () => {
  const client = dex.staticClients[0];
  const upstream = bridgeConfig.issuer?.upstreams[0];

  it('has what Dex needs: issuer, storage, web, password DB with a static user and groups', () => {
    expect(dex.issuer).toMatch(/^https?:\/\//);
    expect(dex.storage.type).toBe('memory');
    expect(dex.web.http).toMatch(/:5556$/);
    expect(dex.enablePasswordDB).toBe(true);
    const [user] = dex.staticPasswords;
    expect(user?.email).toBe('demo@example.com');
    expect(user?.hash).toMatch(/^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/);
    expect(user?.username).toBeTruthy();
    expect(user?.userID).toBeTruthy();
    expect(user?.groups?.length).toBeGreaterThan(0);
  });

  it('the static user signs in with the password docker-compose.yml names (the Hydra e2e serves this user)', async () => {
    const named = /sign in as (\S+) \/ ([^\s.]+)/.exec(read('docker-compose.yml'));
    const [user] = readComposeDexConfig().staticPasswords;
    expect(named?.[1]).toBe(user?.email);
    expect(named?.[2]).toBe(COMPOSE_DEMO_PASSWORD);
    expect(await bcrypt.compare(COMPOSE_DEMO_PASSWORD, user?.hash ?? '')).toBe(true);
    expect(await bcrypt.compare(`${COMPOSE_DEMO_PASSWORD}!`, user?.hash ?? '')).toBe(false);
  });

  it('the static client matches the bridge: client id, secret, redirect URI = publicURL/callback', () => {
    expect(client?.id).toBe(upstream?.clientID);
    expect(client?.secret).toBe(upstream?.clientSecret);
    expect(client?.redirectURIs).toEqual([`${bridgeConfig.issuer?.publicURL}/callback`]);
  });

  it('the bridge reaches Dex at its issuer URL: the host is a network alias of the dex service', () => {
    expect(upstream?.issuer).toBe(dex.issuer);
    const host = new URL(dex.issuer).hostname;
    expect(compose.services['dex']?.networks?.['default']?.aliases).toContain(host);
    expect(compose.services['dex']?.ports).toContain(`127.0.0.1:${new URL(dex.issuer).port}:5556`);
    expect(upstream?.scopes).toContain('groups');
  });
});
