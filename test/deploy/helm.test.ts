import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { run as runWebhookConfig } from '../../src/cli/commands/webhook-config.js';
import { type Config, parseConfigText } from '../../src/config/index.js';
import { createLogger } from '../../src/core/logger.js';
import { parseListenAddress } from '../../src/http/index.js';
import { startServices } from '../../src/server/index.js';
import {
  apiserverRetryBackoff,
  createWebhookClient,
  type WebhookCallResult,
} from '../support/apiserver-webhook-client.js';
import { readWebhookKubeconfig } from '../support/apiserver-webhook-kubeconfig.js';
import { type CertificateAuthority, type CertWorkspace, createCertWorkspace } from '../support/certs.js';
import { startTestRedis, type TestRedis } from '../support/redis-server.js';
import { configTextOnHost, mountContainer, type NamespaceObjects } from './mounted-files.js';
import {
  chartDir,
  lintChart,
  type RenderedChart,
  releaseNotes,
  renderChart,
  tryRenderChart,
} from './rendered-chart.js';

const fullValues = join(chartDir, 'ci', 'full-values.yaml');
const secretFields = ['cookieSecret', 'encryptionKey', 'clientSecret', 'privateKey', 'pepper', 'password'];

let work: string;
let certs: CertWorkspace;
let verifierCA: CertificateAuthority;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'kob-helm-'));
  certs = createCertWorkspace();
  verifierCA = certs.createCA('verifier');
});

afterAll(() => {
  certs.dispose();
  rmSync(work, { recursive: true, force: true });
});

function folder(name: string): string {
  return mkdtempSync(join(work, `${name}-`));
}

function valuesFile(values: unknown): string {
  const file = join(folder('values'), 'values.yaml');
  writeFileSync(file, stringify(values));
  return file;
}

function secretValue(): string {
  return `secret-${randomBytes(24).toString('base64url')}`;
}

/** The Secrets and ConfigMaps a scenario's values refer to, with fresh random secret values. */
function namespaceObjectsFor(scenario: 'default' | 'full' | 'both roles'): NamespaceObjects {
  const server = verifierCA.issue({ commonName: 'kob-kube-oidc-bridge-verifier.auth.svc' });
  const verifierTls = { 'tls.crt': server.cert, 'tls.key': server.key, 'ca.crt': verifierCA.cert };
  const issuer = { 'cookie-secret': secretValue(), 'encryption-key': secretValue() };
  if (scenario === 'default')
    return { secrets: { 'kube-oidc-bridge-verifier-tls': verifierTls }, configMaps: {} };
  if (scenario === 'both roles') {
    return {
      secrets: {
        'kube-oidc-bridge-verifier-tls': verifierTls,
        'kube-oidc-bridge-issuer': issuer,
        'kube-oidc-bridge-upstream': { 'client-secret': secretValue() },
      },
      configMaps: {},
    };
  }
  return {
    secrets: {
      'kube-oidc-bridge-verifier-tls': verifierTls,
      'apiserver-webhook-client-ca': { 'ca.crt': certs.createCA('apiserver-client').cert },
      'kube-oidc-bridge-issuer': issuer,
      'kube-oidc-bridge-upstream': { 'client-secret': secretValue() },
      'kube-oidc-bridge-contractors': { 'private-key.pem': secretValue() },
      'kube-oidc-bridge-tokens': { pepper: secretValue() },
      'redis-credentials': { password: secretValue() },
    },
    configMaps: { 'redis-ca': { 'ca.crt': verifierCA.cert }, 'corp-ca': { 'ca.crt': verifierCA.cert } },
  };
}

function objectKey(objects: Record<string, Record<string, string>>, name: string, key: string): string {
  const value = objects[name]?.[key];
  if (value === undefined) throw new Error(`no key ${key} in ${name}`);
  return value;
}

/** Loads the rendered config with the project's own loader, reading the files the pod would mount. */
function loadRenderedConfig(chart: RenderedChart, objects: NamespaceObjects): Config {
  const mounted = mountContainer(chart, objects, folder('pod'));
  const text = configTextOnHost(readFileSync(mounted.configFile, 'utf8'), mounted);
  return parseConfigText(text, { env: {}, baseDir: work });
}

function podLabels(chart: RenderedChart): Record<string, string> {
  return chart.deployment.spec.template.metadata.labels;
}

function containerPorts(chart: RenderedChart): Map<string, number> {
  const ports = chart.deployment.spec.template.spec.containers[0].ports as {
    name: string;
    containerPort: number;
  }[];
  return new Map(ports.map((p) => [p.name, p.containerPort]));
}

function expectSubset(selector: Record<string, string>, labels: Record<string, string> | undefined): void {
  expect(Object.keys(selector).length).toBeGreaterThan(0);
  expect(labels).toMatchObject(selector);
}

/** Every value in the config object at a key named like a secret, with its path. */
function secretEntries(value: unknown, path = ''): { path: string; value: unknown }[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => secretEntries(v, `${path}.${i}`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => {
    const here = path ? `${path}.${k}` : k;
    return secretFields.includes(k) ? [{ path: here, value: v }] : secretEntries(v, here);
  });
}

describe('helm lint', () => {
  const cases = [
    { name: 'default values', valuesFiles: [], set: [] },
    { name: 'both roles with the example values', valuesFiles: [], set: ['issuer.enabled=true'] },
    { name: 'every optional part on (ci/full-values.yaml)', valuesFiles: [fullValues], set: [] },
  ];
  for (const c of cases) {
    for (const strict of [false, true]) {
      it(`passes${strict ? ' --strict' : ''} with ${c.name}`, async () => {
        const result = await lintChart({
          home: folder('helm'),
          valuesFiles: c.valuesFiles,
          set: c.set,
          strict,
        });
        expect(result.stderr).toBe('');
        expect(result.stdout).toContain('0 chart(s) failed');
        expect(result.code).toBe(0);
      });
    }
  }
});

describe('the chart metadata', () => {
  it("deploys the package's own version by default (appVersion = package.json version)", () => {
    const chart = parse(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as { appVersion: string };
    const pkg = JSON.parse(readFileSync(join(chartDir, '..', '..', '..', 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(chart.appVersion).toBe(pkg.version);
  });
});

const scenarios = [
  {
    name: 'default values (verifier only)',
    objects: 'default' as const,
    valuesFiles: [] as string[],
    set: [] as string[],
    kinds: ['ConfigMap', 'Deployment', 'PodDisruptionBudget', 'Service', 'ServiceAccount'],
    secretFields: 0,
  },
  {
    name: 'both roles with the example values',
    objects: 'both roles' as const,
    valuesFiles: [],
    set: ['issuer.enabled=true'],
    kinds: ['ConfigMap', 'Deployment', 'PodDisruptionBudget', 'Service', 'Service', 'ServiceAccount'],
    // issuer.cookieSecret, issuer.encryptionKey, the upstream's clientSecret
    secretFields: 3,
  },
  {
    name: 'ingress, ServiceMonitor, cert-manager and every secret reference (ci/full-values.yaml)',
    objects: 'full' as const,
    valuesFiles: [fullValues],
    set: [],
    kinds: [
      'Certificate',
      'ConfigMap',
      'Deployment',
      'Ingress',
      'PodDisruptionBudget',
      'Service',
      'Service',
      'Service',
      'ServiceAccount',
      'ServiceMonitor',
    ],
    // the two issuer keys, clientSecret, privateKey, tokens.pepper, store.redis.password
    secretFields: 6,
  },
];

describe.each(scenarios)('helm template with $name', (scenario) => {
  let chart: RenderedChart;
  let objects: NamespaceObjects;
  let config: Config;

  beforeAll(async () => {
    chart = await renderChart({ home: folder('helm'), valuesFiles: scenario.valuesFiles, set: scenario.set });
    objects = namespaceObjectsFor(scenario.objects);
    config = loadRenderedConfig(chart, objects);
  });

  it('renders exactly the expected objects', () => {
    expect(chart.documents.map((d) => d.kind).sort()).toEqual(scenario.kinds);
  });

  it("renders a config.yaml the project's own loader accepts, every file it names mounted in the pod", () => {
    // loadRenderedConfig threw otherwise: unknown keys, a missing role, an unreadable secret or CA file.
    expect(config.store.redis).toBeDefined();
    expect(config.ops?.listen).toBeDefined();
    expect(config.verifier ?? config.issuer).toBeDefined();
  });

  it('keeps secrets out of every ConfigMap: each secret is a `file:` reference to a mounted Secret key', () => {
    const raw = parse(chart.configText);
    const entries = secretEntries(raw);
    expect(entries).toHaveLength(scenario.secretFields);
    for (const entry of entries) {
      expect(entry.value, entry.path).toEqual({ file: expect.stringMatching(/^\/etc\/kube-oidc-bridge\//) });
    }
    const secretValues = Object.values(objects.secrets).flatMap((data) => Object.values(data));
    const configMapText = chart.all('ConfigMap').map((m) => JSON.stringify(m.data));
    for (const value of secretValues) {
      for (const text of configMapText) expect(text.includes(value.trim())).toBe(false);
    }
  });

  it('hands each Secret key to the config field that names it', () => {
    const secret = (name: string, key: string) => objectKey(objects.secrets, name, key);
    const tlsCA =
      scenario.objects === 'full' ? 'apiserver-webhook-client-ca' : 'kube-oidc-bridge-verifier-tls';
    const expectations: [unknown, string][] = [];
    if (config.verifier?.tls) {
      expectations.push(
        [readFileSync(config.verifier.tls.cert, 'utf8'), secret('kube-oidc-bridge-verifier-tls', 'tls.crt')],
        [readFileSync(config.verifier.tls.key, 'utf8'), secret('kube-oidc-bridge-verifier-tls', 'tls.key')],
        [readFileSync(config.verifier.tls.clientCA, 'utf8'), secret(tlsCA, 'ca.crt')],
      );
    }
    if (config.issuer) {
      expectations.push(
        [config.issuer.cookieSecret, secret('kube-oidc-bridge-issuer', 'cookie-secret')],
        [config.issuer.encryptionKey, secret('kube-oidc-bridge-issuer', 'encryption-key')],
        [config.issuer.upstreams[0]?.clientSecret, secret('kube-oidc-bridge-upstream', 'client-secret')],
      );
    }
    if (scenario.objects === 'full') {
      expectations.push(
        [config.issuer?.upstreams[1]?.privateKey, secret('kube-oidc-bridge-contractors', 'private-key.pem')],
        [config.tokens.pepper, secret('kube-oidc-bridge-tokens', 'pepper')],
        [config.store.redis?.password, secret('redis-credentials', 'password')],
        [
          readFileSync(config.store.redis?.tlsCA ?? '', 'utf8'),
          objectKey(objects.configMaps, 'redis-ca', 'ca.crt'),
        ],
        [
          readFileSync(config.issuer?.upstreams[0]?.caFile ?? '', 'utf8'),
          objectKey(objects.configMaps, 'corp-ca', 'ca.crt'),
        ],
      );
    }
    expect(expectations.length).toBe(3 + (config.issuer ? 3 : 0) + (scenario.objects === 'full' ? 5 : 0));
    for (const [actual, expected] of expectations) expect(actual).toBe(expected);
  });

  it('runs as non-root with a read-only root filesystem, no capabilities, RuntimeDefault seccomp', () => {
    const pod = chart.deployment.spec.template.spec;
    const container = pod.containers[0];
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(pod.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
    expect(container.securityContext).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.automountServiceAccountToken).toBe(false);
    const tmp = container.volumeMounts.find((m: { mountPath: string }) => m.mountPath === '/tmp');
    expect(pod.volumes.find((v: { name: string }) => v.name === tmp?.name)?.emptyDir).toBeDefined();
  });

  it('points the probes at /healthz and /readyz on the plain-HTTP ops listener the config opens', () => {
    const container = chart.deployment.spec.template.spec.containers[0];
    const opsPort = parseListenAddress(config.ops?.listen ?? '').port;
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    for (const probe of [container.livenessProbe, container.readinessProbe]) {
      expect(probe.httpGet.scheme ?? 'HTTP').toBe('HTTP');
      expect(containerPorts(chart).get(probe.httpGet.port)).toBe(opsPort);
    }
  });

  it('gives each Service a container port that is the listener of its role', () => {
    const ports = containerPorts(chart);
    const listenerPort: Record<string, number | undefined> = {
      verifier: config.verifier && parseListenAddress(config.verifier.listen).port,
      issuer: config.issuer && parseListenAddress(config.issuer.listen).port,
      metrics: config.ops && parseListenAddress(config.ops.listen).port,
    };
    for (const service of chart.all('Service')) {
      const component = service.metadata.labels?.['app.kubernetes.io/component'] ?? '';
      expectSubset(service.spec.selector, podLabels(chart));
      for (const port of service.spec.ports) {
        expect(ports.get(port.targetPort), `${service.metadata.name} → ${port.targetPort}`).toBe(
          listenerPort[component],
        );
      }
    }
    if (config.verifier) {
      const verifier = chart.one('Service', 'kob-kube-oidc-bridge-verifier');
      expect(verifier.spec.ports[0].port).toBe(8443);
    }
  });

  it('selects its own pods from the Deployment and the PodDisruptionBudget', () => {
    expectSubset(chart.deployment.spec.selector.matchLabels, podLabels(chart));
    expectSubset(chart.one('PodDisruptionBudget').spec.selector.matchLabels, podLabels(chart));
    for (const constraint of chart.deployment.spec.template.spec.topologySpreadConstraints) {
      expectSubset(constraint.labelSelector.matchLabels, podLabels(chart));
    }
  });

  it('runs stateless replicas that never all go at once', () => {
    expect(chart.deployment.spec.replicas).toBeGreaterThanOrEqual(2);
    expect(chart.deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
    expect(chart.one('PodDisruptionBudget').spec.maxUnavailable).toBe(1);
  });
});

describe('optional objects (ci/full-values.yaml)', () => {
  let chart: RenderedChart;
  let config: Config;

  beforeAll(async () => {
    chart = await renderChart({ home: folder('helm'), valuesFiles: [fullValues] });
    config = loadRenderedConfig(chart, namespaceObjectsFor('full'));
  });

  it("routes the Ingress host of issuer.publicURL to the issuer Service's port", () => {
    const ingress = chart.one('Ingress');
    const host = new URL(config.issuer?.publicURL ?? '').hostname;
    const rule = ingress.spec.rules[0];
    expect(rule.host).toBe(host);
    expect(ingress.spec.tls[0].hosts).toEqual([host]);
    const backend = rule.http.paths[0].backend.service;
    const service = chart.one('Service', backend.name);
    expect(service.spec.ports.map((p: { name: string }) => p.name)).toContain(backend.port.name);
    expect(service.metadata.labels?.['app.kubernetes.io/component']).toBe('issuer');
    // Behind the Ingress, client IPs (rate limits) come from the forwarded headers.
    expect(config.issuer?.trustProxy).toBe(true);
  });

  it('scrapes /metrics on the ops port of the metrics Service from the ServiceMonitor', () => {
    const monitor = chart.one('ServiceMonitor');
    const service = chart.one('Service', 'kob-kube-oidc-bridge-metrics');
    expectSubset(monitor.spec.selector.matchLabels, service.metadata.labels);
    const endpoint = monitor.spec.endpoints[0];
    expect(endpoint.path).toBe('/metrics');
    expect(service.spec.ports.map((p: { name: string }) => p.name)).toContain(endpoint.port);
    expect(monitor.metadata.labels).toMatchObject({ release: 'kube-prometheus-stack' });
  });

  it("issues the verifier certificate into the Secret the pod mounts, for the Service's names and pinned IP", () => {
    const certificate = chart.one('Certificate');
    const service = chart.one('Service', 'kob-kube-oidc-bridge-verifier');
    const sources = chart.deployment.spec.template.spec.volumes[0].projected.sources as {
      secret?: { name: string; items: { path: string }[] };
    }[];
    const tlsSource = sources.find((s) => s.secret?.items.some((i) => i.path === 'verifier/tls.crt'));
    expect(certificate.spec.secretName).toBe(tlsSource?.secret?.name);
    expect(certificate.spec.dnsNames).toContain(`${service.metadata.name}.${chart.namespace}.svc`);
    expect(certificate.spec.ipAddresses).toEqual([service.spec.clusterIP]);
    expect(certificate.spec.usages).toContain('server auth');
  });
});

describe('configuration changes roll the pods', () => {
  const checksum = (chart: RenderedChart) =>
    chart.deployment.spec.template.metadata.annotations['checksum/config'];

  it('the checksum annotation follows the ConfigMap and nothing else', async () => {
    const home = folder('helm');
    const base = await renderChart({ home });
    const same = await renderChart({ home });
    const debug = await renderChart({ home, set: ['logging.level=debug'] });
    const moreReplicas = await renderChart({ home, set: ['replicaCount=4'] });
    expect(checksum(base)).toMatch(/^[0-9a-f]{64}$/);
    expect(checksum(same)).toBe(checksum(base));
    expect(checksum(moreReplicas)).toBe(checksum(base));
    expect(checksum(debug)).not.toBe(checksum(base));
    expect(debug.configText).not.toBe(base.configText);
  });
});

describe('values the chart refuses', () => {
  const withIssuer = (issuer: Record<string, unknown>) => ({ issuer: { enabled: true, ...issuer } });
  const upstream = {
    name: 'corporate',
    issuer: 'https://idp.example.com',
    clientID: 'kube-oidc-bridge',
  };
  const cases: { name: string; values: unknown; message: string; secret?: string }[] = [
    {
      name: 'an upstream client secret written inline',
      values: withIssuer({ upstreams: [{ ...upstream, clientSecret: 'inline-client-secret-1' }] }),
      message: 'issuer.upstreams[0].clientSecret must reference a key of an existing Secret',
      secret: 'inline-client-secret-1',
    },
    {
      name: "a cookie key in the config file's own {value: …} form",
      values: withIssuer({ cookieSecret: { value: 'inline-cookie-secret-2' } }),
      message: 'issuer.cookieSecret.value is not supported',
      secret: 'inline-cookie-secret-2',
    },
    {
      name: 'an encryption key from a ConfigMap',
      values: withIssuer({ encryptionKey: { configMapName: 'keys', key: 'encryption-key' } }),
      message: 'issuer.encryptionKey must come from a Secret',
    },
    {
      name: 'a token pepper given as a plain string',
      values: { tokens: { pepper: 'inline-pepper-3' } },
      message: 'tokens.pepper must reference a key of an existing Secret',
      secret: 'inline-pepper-3',
    },
    {
      name: 'a Redis URL carrying a password',
      values: { store: { redis: { url: 'redis://:inline-redis-password-4@redis:6379/0' } } },
      message: 'store.redis.url must not contain a password',
      secret: 'inline-redis-password-4',
    },
    {
      name: 'an upstream without a name',
      values: withIssuer({ upstreams: [{ issuer: 'https://idp.example.com', clientID: 'x' }] }),
      message: 'issuer.upstreams[0].name is required',
    },
    {
      name: 'a verifier without its TLS Secret',
      values: { verifier: { tls: { secretName: '' } } },
      message: 'verifier.tls.secretName is required',
    },
    {
      name: 'no role enabled',
      values: { verifier: { enabled: false } },
      message: 'enable at least one role',
    },
    {
      name: 'an Ingress without the issuer',
      values: { ingress: { enabled: true } },
      message: 'ingress.enabled needs issuer.enabled',
    },
    {
      name: 'cert-manager without an issuer reference',
      values: { verifier: { tls: { certManager: { enabled: true } } } },
      message: 'verifier.tls.certManager.issuerRef.name is required',
    },
  ];

  for (const c of cases) {
    it(`refuses ${c.name}`, async () => {
      const result = await tryRenderChart({ home: folder('helm'), valuesFiles: [valuesFile(c.values)] });
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain(c.message);
      expect(result.stdout).toBe('');
      if (c.secret) expect(result.stderr).not.toContain(c.secret);
    });
  }
});

describe('the default release, started from what the chart mounts', () => {
  let redis: TestRedis;
  let chart: RenderedChart;

  beforeAll(async () => {
    redis = await startTestRedis();
    chart = await renderChart({ home: folder('helm') });
  });

  afterAll(async () => {
    await redis?.close();
  });

  it('answers its probes and an mTLS TokenReview from the apiserver with the default mapping', async () => {
    const serviceName = `${chart.one('Service', 'kob-kube-oidc-bridge-verifier').metadata.name}.${chart.namespace}.svc`;
    const server = verifierCA.issue({ commonName: serviceName, dnsNames: [serviceName] });
    const apiserver = verifierCA.issue({ commonName: 'kube-apiserver-webhook-client', client: true });
    const objects: NamespaceObjects = {
      secrets: {
        'kube-oidc-bridge-verifier-tls': {
          'tls.crt': server.cert,
          'tls.key': server.key,
          'ca.crt': verifierCA.cert,
        },
      },
      configMaps: {},
    };
    const config = loadRenderedConfig(chart, objects);
    // Loopback only in tests; the Redis of this test instead of the chart's example address.
    const verifierConfig = config.verifier;
    if (!verifierConfig || !config.store.redis || !config.ops)
      throw new Error('default config lacks a section');
    verifierConfig.listen = '127.0.0.1:0';
    config.ops.listen = '127.0.0.1:0';
    config.store.redis.url = redis.url;

    const services = await startServices(config, { env: {}, logger: createLogger({ level: 'silent' }) });
    try {
      const probes = chart.deployment.spec.template.spec.containers[0];
      for (const probe of [probes.livenessProbe, probes.readinessProbe]) {
        const res = await fetch(`${services.opsURL}${probe.httpGet.path}`);
        expect(res.status, probe.httpGet.path).toBe(200);
      }

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

      const review = (withClientCertificate: boolean): Promise<WebhookCallResult> => {
        const client = createWebhookClient({
          endpoint: {
            server: new URL(`${services.verifierURL}${verifierConfig.path}`),
            ca: verifierCA.cert,
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

      const answer = await review(true);
      expect(answer).toMatchObject({
        ok: true,
        status: {
          authenticated: true,
          user: { username: 'ada@example.com', groups: ['oidc:developers'] },
          audiences: verifierConfig.audiences,
        },
      });
      expect(await review(false)).toMatchObject({ ok: false });
    } finally {
      await services.close();
    }
  });
});

describe('the release notes', () => {
  /** The shell command in the notes that starts with `first`, continuation lines joined, split into words. */
  function commandIn(notes: string, first: string): string[] {
    const start = notes.indexOf(first);
    expect(start, `notes mention ${first}`).toBeGreaterThanOrEqual(0);
    const lines: string[] = [];
    for (const line of notes.slice(start).split('\n')) {
      lines.push(line.replace(/\\$/, '').trim());
      if (!line.endsWith('\\')) break;
    }
    return lines.join(' ').split(/\s+/).filter(Boolean);
  }

  it('print a webhook-config command that writes the kubeconfig the apiserver flags then name', async () => {
    const notes = await releaseNotes({ home: folder('helm'), valuesFiles: [fullValues] });
    const [program, subcommand, ...flags] = commandIn(notes, 'kube-oidc-bridge webhook-config');
    expect([program, subcommand]).toEqual(['kube-oidc-bridge', 'webhook-config']);

    // The admin's working folder, with the files the notes name; --out goes there instead of /etc.
    const cwd = folder('admin');
    const apiserver = verifierCA.issue({ commonName: 'kube-apiserver-webhook-client', client: true });
    const files: Record<string, string> = {
      'verifier-ca.crt': verifierCA.cert,
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
    const verifierOnly = await releaseNotes({ home: folder('helm') });
    expect(verifierOnly).toContain('kube-oidc-bridge token mint');
    const withIssuer = await releaseNotes({ home: folder('helm'), set: ['issuer.enabled=true'] });
    expect(withIssuer).toContain('Open https://kube-login.example.com');
  });
});

describe('the values reference in the deployment guide', () => {
  const guide = readFileSync(join(chartDir, '..', '..', '..', 'docs', 'deploy-kubernetes.md'), 'utf8');
  const values = parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as Record<string, unknown>;

  /** First-column keys of the reference table; `a.b.c`, `d` documents `a.b.c` and `a.b.d`. */
  const documented = (() => {
    const table = guide.slice(guide.indexOf('## Values reference'));
    const keys: string[] = [];
    for (const row of table.split('\n').filter((l) => l.startsWith('| `'))) {
      const names = [...(row.split('|')[1] ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? '');
      const [first = '', ...others] = names;
      const parent = first.includes('.') ? first.slice(0, first.lastIndexOf('.') + 1) : '';
      keys.push(first, ...others.map((name) => (name.includes('.') ? name : parent + name)));
    }
    return keys;
  })();

  function leafPaths(value: unknown, path: string): string[] {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return [path];
    const entries = Object.entries(value);
    if (entries.length === 0) return [path];
    return entries.flatMap(([k, v]) => leafPaths(v, path ? `${path}.${k}` : k));
  }

  function exists(path: string): boolean {
    let node: unknown = values;
    for (const part of path.split('.')) {
      if (node === null || typeof node !== 'object' || !(part in node)) return false;
      node = (node as Record<string, unknown>)[part];
    }
    return true;
  }

  it('documents every key of values.yaml (or a parent of it)', () => {
    const undocumented = leafPaths(values, '').filter(
      (leaf) => !documented.some((key) => leaf === key || leaf.startsWith(`${key}.`)),
    );
    expect(undocumented).toEqual([]);
  });

  it('documents no key that values.yaml does not have', () => {
    expect(documented.length).toBeGreaterThan(40);
    expect(documented.filter((key) => !exists(key))).toEqual([]);
  });
});
