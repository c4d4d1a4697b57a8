import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Config } from '../../src/config/index.js';
import { parseListenAddress } from '../../src/http/index.js';
import { compileMappingSet } from '../../src/mapping/index.js';
import { ChartWorkspace } from './chart-workspace.js';
import type { NamespaceObjects } from './mounted-files.js';
import { type RenderedChart, renderChart, tryRenderChart } from './rendered-chart.js';

/**
 * The impersonation proxy in the chart: its own Deployment, Service, ServiceAccount and a ClusterRole
 * granting `impersonate` on exactly what the mapping can produce. The managed-cluster install has no
 * verifier (nobody can point that apiserver at it), so the proxy must render alone.
 */

let ws: ChartWorkspace;
beforeAll(() => {
  ws = ChartWorkspace.create();
});
afterAll(() => ws.dispose());

const managedCluster = [
  'verifier.enabled=false',
  'proxy.enabled=true',
  'proxy.audiences={https://prod.example.com}',
  'mapping.claimMappings.extra[0].key=example.com/team',
  'mapping.claimMappings.extra[0].valueExpression=claims.teams',
];

function proxyObjects(extra: Record<string, Record<string, string>> = {}): NamespaceObjects {
  const serving = ws.verifierCA.issue({ commonName: 'proxy.example.com' });
  return {
    secrets: { 'kube-oidc-bridge-proxy-tls': { 'tls.crt': serving.cert, 'tls.key': serving.key }, ...extra },
    configMaps: {},
  };
}

type Rule = { apiGroups: string[]; resources: string[]; verbs: string[] };

function rules(chart: RenderedChart): Rule[] {
  return (chart.one('ClusterRole') as unknown as { rules: Rule[] }).rules;
}

describe('a managed cluster: the proxy alone', () => {
  let chart: RenderedChart;
  let config: Config;

  beforeAll(async () => {
    chart = await renderChart({ home: ws.folder('helm'), set: managedCluster });
    config = ws.loadRenderedConfig(chart, proxyObjects());
  });

  it('renders the proxy’s objects and nothing of the verifier', () => {
    expect(chart.documents.map((d) => d.kind).sort()).toEqual([
      'ClusterRole',
      'ClusterRoleBinding',
      'ConfigMap',
      'Deployment',
      'PodDisruptionBudget',
      'Service',
      'ServiceAccount',
    ]);
    expect(chart.deployment.metadata.name).toBe('kob-kube-oidc-bridge-proxy');
  });

  it('renders a config the project’s loader accepts: the proxy role, its certificate mounted, the in-cluster upstream', () => {
    expect(config.verifier).toBeUndefined();
    expect(config.proxy).toMatchObject({
      listen: ':8444',
      audiences: ['https://prod.example.com'],
      tokenPassthrough: false,
      upstream: { connectTimeout: 10 },
    });
    expect(config.proxy?.upstream.kubeconfig).toBeUndefined();
    expect(config.ops?.listen).toBe(':9090');
  });

  it('grants impersonate on users, groups, uids and the mapping’s extra keys — nothing broader', () => {
    expect(rules(chart)).toEqual([
      { apiGroups: [''], resources: ['users', 'groups'], verbs: ['impersonate'] },
      {
        apiGroups: ['authentication.k8s.io'],
        resources: ['uids', 'userextras/example.com/team'],
        verbs: ['impersonate'],
      },
    ]);
    const binding = chart.one('ClusterRoleBinding') as unknown as {
      roleRef: { name: string };
      subjects: { kind: string; name: string; namespace: string }[];
    };
    expect(binding.roleRef.name).toBe(chart.one('ClusterRole').metadata.name);
    expect(binding.subjects).toEqual([
      { kind: 'ServiceAccount', name: chart.one('ServiceAccount').metadata.name, namespace: 'auth' },
    ]);
    expect(chart.deployment.spec.template.spec.serviceAccountName).toBe(
      chart.one('ServiceAccount').metadata.name,
    );
  });

  it('mounts the service-account token (its credential upstream) and probes the ops listener', () => {
    const pod = chart.deployment.spec.template.spec;
    expect(pod.automountServiceAccountToken).toBe(true);
    const container = pod.containers[0];
    const ports = new Map(
      (container.ports as { name: string; containerPort: number }[]).map((p) => [p.name, p.containerPort]),
    );
    expect(ports.get('https-proxy')).toBe(parseListenAddress(config.proxy?.listen ?? '').port);
    expect(ports.get('http-ops')).toBe(parseListenAddress(config.ops?.listen ?? '').port);
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http-ops' });
    expect(chart.one('Service').spec.ports[0]).toMatchObject({ port: 443, targetPort: 'https-proxy' });
  });
});

describe('the proxy next to the verifier and issuer', () => {
  it('never lets the verifier’s selectors pick proxy pods', async () => {
    const chart = await renderChart({
      home: ws.folder('helm'),
      set: ['issuer.enabled=true', 'proxy.enabled=true', 'proxy.audiences={prod}'],
    });
    const proxyPods = chart.one('Deployment', 'kob-kube-oidc-bridge-proxy').spec.template.metadata.labels;
    const mainSelector = chart.one('Deployment', 'kob-kube-oidc-bridge').spec.selector.matchLabels;
    const matches = (selector: Record<string, string>) =>
      Object.entries(selector).every(([k, v]) => proxyPods[k] === v);
    expect(matches(mainSelector)).toBe(false);
    expect(matches(chart.one('Service', 'kob-kube-oidc-bridge-verifier').spec.selector)).toBe(false);
    expect(matches(chart.one('Service', 'kob-kube-oidc-bridge-proxy').spec.selector)).toBe(true);
  });

  it('grants the extra keys of per-upstream mappings too', async () => {
    const chart = await renderChart({
      home: ws.folder('helm'),
      set: [
        ...managedCluster,
        'issuer.enabled=true',
        'issuer.upstreams[0].name=corp',
        'issuer.upstreams[0].issuer=https://idp.example.com',
        'issuer.upstreams[0].clientID=kob',
        'issuer.upstreams[0].mapping.claimMappings.username.claim=email',
        'issuer.upstreams[0].mapping.claimMappings.username.prefix=',
        'issuer.upstreams[0].mapping.claimMappings.extra[0].key=corp.example.com/cost-center',
        'issuer.upstreams[0].mapping.claimMappings.extra[0].valueExpression=claims.cc',
      ],
    });
    expect(rules(chart)[1]?.resources).toEqual([
      'uids',
      'userextras/corp.example.com/cost-center',
      'userextras/example.com/team',
    ]);
    // The proxy's own config has no issuer section: the upstream's rules travel as upstreamMappings.
    const proxyConfig = parse(
      String(chart.one('ConfigMap', 'kob-kube-oidc-bridge-proxy').data?.['config.yaml']),
    );
    expect(proxyConfig.issuer).toBeUndefined();
    expect(proxyConfig.upstreamMappings?.corp?.claimMappings?.extra).toEqual([
      { key: 'corp.example.com/cost-center', valueExpression: 'claims.cc' },
    ]);
  });

  it('carries upstreamMappings into a proxy-only install, mapped as the issuer maps that upstream', async () => {
    const chart = await renderChart({
      home: ws.folder('helm'),
      set: [
        ...managedCluster,
        'upstreamMappings.corp.claimMappings.username.claim=email',
        'upstreamMappings.corp.claimMappings.username.prefix=corp:',
        'upstreamMappings.corp.claimMappings.extra[0].key=corp.example.com/cost-center',
        'upstreamMappings.corp.claimMappings.extra[0].valueExpression=claims.cc',
      ],
    });
    const config = ws.loadRenderedConfig(chart, proxyObjects());
    const mapping = await compileMappingSet(config);
    const claims = { email: 'alice@example.com', cc: 'c-7', teams: ['a'] };
    expect(mapping.forUpstream('corp').mapClaims(claims)).toMatchObject({
      ok: true,
      user: { username: 'corp:alice@example.com', extra: { 'corp.example.com/cost-center': ['c-7'] } },
    });
    expect(mapping.forUpstream('elsewhere').mapClaims(claims)).toMatchObject({
      ok: true,
      user: { username: 'alice@example.com' },
    });
    expect(rules(chart)[1]?.resources).toContain('userextras/corp.example.com/cost-center');
  });
});

describe('an upstream kubeconfig instead of the service account', () => {
  it('mounts the kubeconfig Secret, names it in the config, and does not mount a token', async () => {
    const chart = await renderChart({
      home: ws.folder('helm'),
      set: [
        ...managedCluster,
        'proxy.upstream.kubeconfig.secretName=proxy-upstream',
        'proxy.upstream.context=prod',
      ],
    });
    const config = ws.loadRenderedConfig(
      chart,
      proxyObjects({ 'proxy-upstream': { kubeconfig: 'apiVersion: v1\n' } }),
    );
    expect(config.proxy?.upstream.kubeconfig).toMatch(/proxy\/upstream\.kubeconfig$/);
    expect(config.proxy?.upstream.context).toBe('prod');
    expect(chart.deployment.spec.template.spec.automountServiceAccountToken).toBe(false);
  });
});

describe('values the chart refuses for the proxy', () => {
  it.each([
    ['no audiences', ['verifier.enabled=false', 'proxy.enabled=true'], /proxy.audiences is required/],
    [
      'no serving certificate',
      ['verifier.enabled=false', 'proxy.enabled=true', 'proxy.audiences={a}', 'proxy.tls.secretName='],
      /proxy.tls.secretName is required/,
    ],
    [
      'an unknown key',
      ['proxy.enabled=true', 'proxy.audiences={a}', 'proxy.upstream.kubconfig=x'],
      /kubconfig/,
    ],
  ])('refuses %s', async (_name, set, message) => {
    const result = await tryRenderChart({ home: ws.folder('helm'), set });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(message);
  });
});
