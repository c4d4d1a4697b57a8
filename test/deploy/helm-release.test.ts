import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as runTokenMint } from '../../src/cli/commands/token-mint.js';
import { run as runWebhookConfig } from '../../src/cli/commands/webhook-config.js';
import { loadConfigFile } from '../../src/config/index.js';
import { createLogger } from '../../src/core/logger.js';
import { startServices } from '../../src/server/index.js';
import {
  apiserverRetryBackoff,
  createWebhookClient,
  type WebhookCallResult,
} from '../support/apiserver-webhook-client.js';
import { readWebhookKubeconfig } from '../support/apiserver-webhook-kubeconfig.js';
import { startTestRedis, type TestRedis } from '../support/redis-server.js';
import { ChartWorkspace, commandIn, fullValues } from './chart-workspace.js';
import type { NamespaceObjects } from './mounted-files.js';
import { type RenderedChart, releaseNotes, renderChart } from './rendered-chart.js';

let ws: ChartWorkspace;

beforeAll(() => {
  ws = ChartWorkspace.create();
});

afterAll(() => {
  ws.dispose();
});

describe('the default release, started from what the chart mounts', () => {
  let redis: TestRedis;
  let chart: RenderedChart;
  let notes: string;

  beforeAll(async () => {
    redis = await startTestRedis();
    const home = ws.folder('helm');
    chart = await renderChart({ home });
    notes = await releaseNotes({ home });
  });

  afterAll(async () => {
    await redis?.close();
  });

  it('answers its probes, and the apiserver authenticates over mTLS a token minted as the notes say', async () => {
    const service = chart.one('Service', 'kob-kube-oidc-bridge-verifier');
    const serviceName = `${service.metadata.name}.${chart.namespace}.svc`;
    const server = ws.verifierCA.issue({ commonName: serviceName, dnsNames: [serviceName] });
    const apiserver = ws.verifierCA.issue({ commonName: 'kube-apiserver-webhook-client', client: true });
    const objects: NamespaceObjects = {
      secrets: {
        'kube-oidc-bridge-verifier-tls': {
          'tls.crt': server.cert,
          'tls.key': server.key,
          'ca.crt': ws.verifierCA.cert,
        },
      },
      configMaps: {},
    };
    // Loopback only in tests, and the Redis of this test instead of the chart's example address.
    const configFile = ws.hostConfigFile(chart, objects, (raw) => {
      raw.store.redis.url = redis.url;
      raw.verifier.listen = '127.0.0.1:0';
      raw.ops.listen = '127.0.0.1:0';
    });
    const config = loadConfigFile(configFile, {});
    const verifierConfig = config.verifier;
    if (!verifierConfig) throw new Error('the default release has no verifier');

    const services = await startServices(config, { env: {}, logger: createLogger({ level: 'silent' }) });
    const review = (token: string, withClientCertificate: boolean): Promise<WebhookCallResult> => {
      const client = createWebhookClient({
        endpoint: {
          server: new URL(`${services.verifierURL}${verifierConfig.path}`),
          ca: ws.verifierCA.cert,
          insecureSkipTLSVerify: false,
          tlsServerName: serviceName,
          ...(withClientCertificate ? { clientCert: apiserver.cert, clientKey: apiserver.key } : {}),
        },
        version: 'v1',
        kubernetesMinor: 35,
        backoff: { ...apiserverRetryBackoff, steps: 1 },
        requestTimeoutMs: 10_000,
        log: [],
      });
      return client.review(token, verifierConfig.audiences).finally(() => client.close());
    };
    try {
      const container = chart.deployment.spec.template.spec.containers[0];
      for (const probe of [container.livenessProbe, container.readinessProbe]) {
        const res = await fetch(`${services.opsURL}${probe.httpGet.path}`);
        expect(res.status, probe.httpGet.path).toBe(200);
      }

      // The notes' `token mint` command, run with the release's own configuration file.
      // In the image the program is `node /app/bin/kube-oidc-bridge.js` (the Dockerfile's entrypoint).
      const words = commandIn(notes, 'node /app/bin/kube-oidc-bridge.js');
      expect(words.slice(0, 4)).toEqual(['node', '/app/bin/kube-oidc-bridge.js', 'token', 'mint']);
      const flags = words.slice(4);
      flags[flags.indexOf('--config') + 1] = configFile;
      const stdout: string[] = [];
      const stderr: string[] = [];
      const code = await runTokenMint(flags, {
        stdout: { write: (chunk: string) => stdout.push(chunk) },
        stderr: { write: (chunk: string) => stderr.push(chunk) },
        env: {},
        cwd: ws.dir,
      });
      expect(code, stderr.join('')).toBe(0);
      const minted = stdout.join('').trim();
      expect(await review(minted, true)).toMatchObject({
        ok: true,
        status: {
          authenticated: true,
          user: { username: 'jane@example.com', groups: ['developers'] },
          audiences: verifierConfig.audiences,
        },
      });

      // A login's claims go through the chart's default mapping: email → username, groups prefixed.
      const session = await services.tokens.createSession({
        identity: {
          kind: 'claims',
          upstream: '',
          claims: {
            iss: 'https://idp.example.com',
            sub: 'u-1',
            email: 'ada@example.com',
            groups: ['developers'],
          },
        },
        username: 'ada@example.com',
        source: 'admin',
      });
      const { token } = await services.tokens.issueAccessToken(session, verifierConfig.audiences);
      expect(await review(token, true)).toMatchObject({
        ok: true,
        status: { authenticated: true, user: { username: 'ada@example.com', groups: ['oidc:developers'] } },
      });

      expect(await review(token, false)).toMatchObject({ ok: false });
    } finally {
      await services.close();
    }
  });
});

describe('the release notes', () => {
  it('print a webhook-config command that writes the kubeconfig the apiserver flags then name', async () => {
    const notes = await releaseNotes({ home: ws.folder('helm'), valuesFiles: [fullValues] });
    const [program, subcommand, ...flags] = commandIn(notes, 'kube-oidc-bridge webhook-config');
    expect([program, subcommand]).toEqual(['kube-oidc-bridge', 'webhook-config']);

    // The admin's working folder, with the files the notes name; --out goes there instead of /etc.
    const cwd = ws.folder('admin');
    const apiserver = ws.verifierCA.issue({ commonName: 'kube-apiserver-webhook-client', client: true });
    const files: Record<string, string> = {
      'verifier-ca.crt': ws.verifierCA.cert,
      'apiserver-webhook.crt': apiserver.cert,
      'apiserver-webhook.key': apiserver.key,
    };
    for (const [name, content] of Object.entries(files)) writeFileSync(join(cwd, name), content);
    const outIndex = flags.indexOf('--out') + 1;
    const outPath = flags[outIndex] ?? '';
    flags[outIndex] = 'webhook.yaml';
    const stderr: string[] = [];
    const code = await runWebhookConfig(flags, {
      stdout: { write: () => true },
      stderr: { write: (chunk: string) => stderr.push(chunk) },
      env: {},
      cwd,
    });
    expect(code, stderr.join('')).toBe(0);

    const endpoint = readWebhookKubeconfig(join(cwd, 'webhook.yaml'));
    expect(endpoint.server.href).toBe('https://10.96.100.100:8443/authenticate');
    expect(endpoint.clientCert).toBe(apiserver.cert);
    expect(notes).toContain(`--authentication-token-webhook-config-file=${outPath}`);
    expect(notes).toContain('--authentication-token-webhook-version=v1');
  });

  it('tell a verifier-only release where tokens come from, and a release with the issuer where to sign in', async () => {
    const verifierOnly = await releaseNotes({ home: ws.folder('helm') });
    expect(verifierOnly).toContain('kube-oidc-bridge.js token mint');
    const withIssuer = await releaseNotes({ home: ws.folder('helm'), set: ['issuer.enabled=true'] });
    expect(withIssuer).toContain('Open https://kube-login.example.com');
  });
});
