import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Config } from '../../src/config/index.js';
import { parseListenAddress } from '../../src/http/index.js';
import { ChartWorkspace, clusterValues, fullValues, objectKey, sentinelValues } from './chart-workspace.js';
import type { NamespaceObjects } from './mounted-files.js';
import { chartDir, lintChart, type RenderedChart, renderChart, tryRenderChart } from './rendered-chart.js';

const secretFields = ['cookieSecret', 'encryptionKey', 'clientSecret', 'privateKey', 'pepper', 'password'];

let ws: ChartWorkspace;

beforeAll(() => {
  ws = ChartWorkspace.create();
});

afterAll(() => {
  ws.dispose();
});

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
    {
      name: 'Redis through Sentinel (ci/redis-sentinel-values.yaml)',
      valuesFiles: [sentinelValues],
      set: [],
    },
    { name: 'Redis Cluster (ci/redis-cluster-values.yaml)', valuesFiles: [clusterValues], set: [] },
  ];
  for (const c of cases) {
    for (const strict of [false, true]) {
      it(`passes${strict ? ' --strict' : ''} with ${c.name}`, async () => {
        const result = await lintChart({
          home: ws.folder('helm'),
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
    name: 'the issuer alone',
    objects: 'both roles' as const,
    valuesFiles: [],
    set: ['issuer.enabled=true', 'verifier.enabled=false'],
    kinds: ['ConfigMap', 'Deployment', 'PodDisruptionBudget', 'Service', 'ServiceAccount'],
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
  {
    name: 'Redis through Sentinel (ci/redis-sentinel-values.yaml)',
    objects: 'redis HA' as const,
    valuesFiles: [sentinelValues],
    set: [],
    kinds: ['ConfigMap', 'Deployment', 'PodDisruptionBudget', 'Service', 'ServiceAccount'],
    // store.redis.password, store.redis.sentinel.password
    secretFields: 2,
  },
  {
    name: 'Redis Cluster (ci/redis-cluster-values.yaml)',
    objects: 'redis HA' as const,
    valuesFiles: [clusterValues],
    set: [],
    kinds: ['ConfigMap', 'Deployment', 'PodDisruptionBudget', 'Service', 'ServiceAccount'],
    // store.redis.password
    secretFields: 1,
  },
];

describe.each(scenarios)('helm template with $name', (scenario) => {
  let chart: RenderedChart;
  let objects: NamespaceObjects;
  let config: Config;

  beforeAll(async () => {
    chart = await renderChart({
      home: ws.folder('helm'),
      valuesFiles: scenario.valuesFiles,
      set: scenario.set,
    });
    objects = ws.namespaceObjectsFor(scenario.objects);
    config = ws.loadRenderedConfig(chart, objects);
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
    if (scenario.objects === 'redis HA') {
      expectations.push([config.store.redis?.password, secret('redis-credentials', 'password')]);
    }
    if (config.store.redis?.sentinel) {
      expectations.push([
        config.store.redis.sentinel.password,
        secret('redis-sentinel', 'sentinel-password'),
      ]);
    }
    expect(expectations.length).toBe(
      (config.verifier ? 3 : 0) +
        (config.issuer ? 3 : 0) +
        (scenario.objects === 'full' ? 5 : 0) +
        (scenario.objects === 'redis HA' ? 1 : 0) +
        (config.store.redis?.sentinel ? 1 : 0),
    );
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
    chart = await renderChart({ home: ws.folder('helm'), valuesFiles: [fullValues] });
    config = ws.loadRenderedConfig(chart, ws.namespaceObjectsFor('full'));
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

describe('issuer.trustProxy', () => {
  const render = async (values: unknown, set: string[] = []) => {
    const chart = await renderChart({
      home: ws.folder('helm'),
      valuesFiles: [ws.valuesFile(values)],
      set: ['issuer.enabled=true', ...set],
    });
    return {
      raw: parse(chart.configText),
      config: ws.loadRenderedConfig(chart, ws.namespaceObjectsFor('both roles')),
    };
  };

  it('passes a list of proxy addresses and CIDR ranges through unchanged', async () => {
    const proxies = ['10.0.0.0/8', '192.0.2.10', 'fd00::/8'];
    const { raw, config } = await render({ issuer: { trustProxy: proxies } });
    expect(raw.issuer.trustProxy).toEqual(proxies);
    expect(config.issuer?.trustProxy).toEqual(proxies);
  });

  it('follows ingress.enabled when null, and keeps an explicit false behind the Ingress', async () => {
    expect((await render({})).config.issuer?.trustProxy).toBe(false);
    const explicit = await render({ issuer: { trustProxy: false }, ingress: { enabled: true } });
    expect(explicit.config.issuer?.trustProxy).toBe(false);
  });

  for (const [name, value] of [
    ['a single string', '10.0.0.0/8'],
    ['an empty list', []],
    ['a list holding a number', [10]],
  ] as const) {
    it(`refuses ${name} (values.schema.json)`, async () => {
      const result = await tryRenderChart({
        home: ws.folder('helm'),
        valuesFiles: [ws.valuesFile({ issuer: { enabled: true, trustProxy: value } })],
      });
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain("at '/issuer/trustProxy'");
    });
  }
});

describe('Redis through Sentinel or Cluster', () => {
  const load = async (valuesFile: string) => {
    const chart = await renderChart({ home: ws.folder('helm'), valuesFiles: [valuesFile] });
    return {
      chart,
      raw: parse(chart.configText),
      config: ws.loadRenderedConfig(chart, ws.namespaceObjectsFor('redis HA')),
    };
  };

  it('renders the sentinels, the master group and the sentinel password as a mounted file, and no URL', async () => {
    const { raw, config } = await load(sentinelValues);
    expect(raw.store.redis.url).toBeUndefined();
    expect(raw.store.redis.sentinel.password).toEqual({
      file: '/etc/kube-oidc-bridge/secrets/redis-sentinel-password',
    });
    expect(config.store.redis?.url).toBeUndefined();
    expect(config.store.redis?.cluster).toBeUndefined();
    expect(config.store.redis?.sentinel).toEqual({
      name: 'kob-primary',
      nodes: [
        'redis-sentinel-0.redis-sentinel.redis.svc.cluster.local:26379',
        'redis-sentinel-1.redis-sentinel.redis.svc.cluster.local:26379',
        'redis-sentinel-2.redis-sentinel.redis.svc.cluster.local:26379',
      ],
      username: 'sentinel-client',
      password: expect.stringMatching(/^secret-/),
    });
    // The data nodes keep their own user; the sentinels' credentials are separate.
    expect(config.store.redis?.username).toBe('kube-oidc-bridge');
    expect(config.store.redis?.password).not.toBe(config.store.redis?.sentinel?.password);
  });

  it('renders the Cluster seed nodes (an IPv6 one included) and no URL', async () => {
    const { raw, config } = await load(clusterValues);
    expect(raw.store.redis.url).toBeUndefined();
    expect(config.store.redis?.sentinel).toBeUndefined();
    expect(config.store.redis?.cluster).toEqual({
      nodes: ['redis-cluster-0.redis-cluster-headless.redis.svc.cluster.local:6379', '[fd00:10:96::a]:6379'],
    });
    expect(config.store.redis?.username).toBe('kube-oidc-bridge');
  });
});

describe('configuration changes roll the pods', () => {
  const checksum = (chart: RenderedChart) =>
    chart.deployment.spec.template.metadata.annotations['checksum/config'];

  it('the checksum annotation follows the ConfigMap and nothing else', async () => {
    const home = ws.folder('helm');
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
      name: 'no Redis at all (url emptied, no sentinel, no cluster)',
      values: { store: { redis: { url: '' } } },
      message: 'store.redis: set one of url, sentinel (name and nodes) or cluster (nodes)',
    },
    {
      name: 'Sentinel next to the default URL',
      values: { store: { redis: { sentinel: { name: 'kob-primary', nodes: ['sentinel:26379'] } } } },
      message: 'store.redis: set only one of url, sentinel or cluster, not url and sentinel',
    },
    {
      name: 'Sentinel and Cluster together',
      values: {
        store: {
          redis: {
            url: '',
            sentinel: { name: 'kob-primary', nodes: ['sentinel:26379'] },
            cluster: { nodes: ['redis-0:6379'] },
          },
        },
      },
      message: 'store.redis: set only one of url, sentinel or cluster, not sentinel and cluster',
    },
    {
      name: 'a sentinel password with no sentinels to send it to',
      values: { store: { redis: { url: '', sentinel: { password: { secretName: 'redis-sentinel' } } } } },
      message: 'store.redis.sentinel.name is required with Sentinel',
    },
    {
      name: 'Sentinel without its nodes',
      values: { store: { redis: { url: '', sentinel: { name: 'kob-primary' } } } },
      message: 'store.redis.sentinel.nodes is required with Sentinel',
    },
    {
      name: 'a sentinel password written inline',
      values: {
        store: {
          redis: {
            url: '',
            sentinel: {
              name: 'kob-primary',
              nodes: ['sentinel:26379'],
              password: 'inline-sentinel-password-5',
            },
          },
        },
      },
      message: 'store.redis.sentinel.password must reference a key of an existing Secret',
      secret: 'inline-sentinel-password-5',
    },
    {
      name: 'a Cluster seed node without a port (values.schema.json)',
      values: { store: { redis: { url: '', cluster: { nodes: ['redis-0'] } } } },
      message: "at '/store/redis/cluster/nodes/0'",
    },
    {
      name: 'a TLS CA for a Cluster (TLS only with a rediss:// url)',
      values: {
        store: {
          redis: { url: '', cluster: { nodes: ['redis-0:6379'] }, tlsCA: { secretName: 'redis-ca' } },
        },
      },
      message: 'store.redis.tlsCA only applies to a rediss:// url',
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
      name: 'a misspelt chart key (values.schema.json)',
      values: { replicas: 3 },
      message: "additional properties 'replicas' not allowed",
    },
    {
      name: 'a plain-HTTP verifier (the chart has no such switch)',
      values: { verifier: { insecureHTTP: true } },
      message: "additional properties 'insecureHTTP' not allowed",
    },
    {
      name: 'a port that is not a number',
      values: { verifier: { service: { port: 'https' } } },
      message: "at '/verifier/service/port'",
    },
    {
      name: 'cert-manager without an issuer reference',
      values: { verifier: { tls: { certManager: { enabled: true } } } },
      message: 'verifier.tls.certManager.issuerRef.name is required',
    },
  ];

  for (const c of cases) {
    it(`refuses ${c.name}`, async () => {
      const result = await tryRenderChart({
        home: ws.folder('helm'),
        valuesFiles: [ws.valuesFile(c.values)],
      });
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain(c.message);
      expect(result.stdout).toBe('');
      if (c.secret) expect(result.stderr).not.toContain(c.secret);
    });
  }
});
