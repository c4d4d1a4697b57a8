import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { type Config, parseConfigText } from '../../src/config/index.js';
import { type CertificateAuthority, type CertWorkspace, createCertWorkspace } from '../support/certs.js';
import { configTextOnHost, mountContainer, type NamespaceObjects } from './mounted-files.js';
import { chartDir, type RenderedChart } from './rendered-chart.js';

/** The values file with every optional part of the chart on. */
export const fullValues = join(chartDir, 'ci', 'full-values.yaml');
/** The verifier on Redis through Sentinel, with a sentinel password and data-node credentials. */
export const sentinelValues = join(chartDir, 'ci', 'redis-sentinel-values.yaml');
/** The verifier on Redis Cluster, with data-node credentials. */
export const clusterValues = join(chartDir, 'ci', 'redis-cluster-values.yaml');

/** Which Secrets and ConfigMaps a scenario's values refer to. */
export type ValuesScenario = 'default' | 'both roles' | 'full' | 'redis HA';

function secretValue(): string {
  return `secret-${randomBytes(24).toString('base64url')}`;
}

/** One key of a Secret or ConfigMap; throws when it is not there. */
export function objectKey(
  objects: Record<string, Record<string, string>>,
  name: string,
  key: string,
): string {
  const value = objects[name]?.[key];
  if (value === undefined) throw new Error(`no key ${key} in ${name}`);
  return value;
}

/** The shell command in the notes that starts with `first`, continuation lines joined, split into words. */
export function commandIn(notes: string, first: string): string[] {
  const start = notes.indexOf(first);
  if (start === -1) throw new Error(`the notes do not mention ${first}`);
  const lines: string[] = [];
  for (const line of notes.slice(start).split('\n')) {
    lines.push(line.replace(/\\$/, '').trim());
    if (!line.endsWith('\\')) break;
  }
  return lines.join(' ').split(/\s+/).filter(Boolean);
}

/** A temporary folder for one test file: helm homes, values files, pod filesystems, a test PKI. */
export class ChartWorkspace {
  private constructor(
    readonly dir: string,
    readonly certs: CertWorkspace,
    /** Signs the verifier's serving certificate and the apiserver's client certificate. */
    readonly verifierCA: CertificateAuthority,
  ) {}

  static create(): ChartWorkspace {
    const certs = createCertWorkspace();
    return new ChartWorkspace(mkdtempSync(join(tmpdir(), 'kob-helm-')), certs, certs.createCA('verifier'));
  }

  folder(name: string): string {
    return mkdtempSync(join(this.dir, `${name}-`));
  }

  valuesFile(values: unknown): string {
    const file = join(this.folder('values'), 'values.yaml');
    writeFileSync(file, stringify(values));
    return file;
  }

  /** The Secrets and ConfigMaps a scenario's values refer to, with fresh random secret values. */
  namespaceObjectsFor(scenario: ValuesScenario): NamespaceObjects {
    const ca = this.verifierCA;
    const server = ca.issue({ commonName: 'kob-kube-oidc-bridge-verifier.auth.svc' });
    const verifierTls = { 'tls.crt': server.cert, 'tls.key': server.key, 'ca.crt': ca.cert };
    const issuer = { 'cookie-secret': secretValue(), 'encryption-key': secretValue() };
    if (scenario === 'default')
      return { secrets: { 'kube-oidc-bridge-verifier-tls': verifierTls }, configMaps: {} };
    if (scenario === 'redis HA') {
      return {
        secrets: {
          'kube-oidc-bridge-verifier-tls': verifierTls,
          'redis-credentials': { password: secretValue() },
          'redis-sentinel': { 'sentinel-password': secretValue() },
        },
        configMaps: {},
      };
    }
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
        'apiserver-webhook-client-ca': { 'ca.crt': this.certs.createCA('apiserver-client').cert },
        'kube-oidc-bridge-issuer': issuer,
        'kube-oidc-bridge-upstream': { 'client-secret': secretValue() },
        'kube-oidc-bridge-contractors': { 'private-key.pem': secretValue() },
        'kube-oidc-bridge-tokens': { pepper: secretValue() },
        'redis-credentials': { password: secretValue() },
      },
      configMaps: { 'redis-ca': { 'ca.crt': ca.cert }, 'corp-ca': { 'ca.crt': ca.cert } },
    };
  }

  /** Loads the rendered config with the project's own loader, reading the files the pod would mount. */
  loadRenderedConfig(chart: RenderedChart, objects: NamespaceObjects): Config {
    const mounted = mountContainer(chart, objects, this.folder('pod'));
    const text = configTextOnHost(readFileSync(mounted.configFile, 'utf8'), mounted);
    return parseConfigText(text, { env: {}, baseDir: this.dir });
  }

  /**
   * Writes the rendered config as the pod would see it, paths pointing at the mounted files on this
   * host, after `adjust` changed the raw document; returns the file.
   */
  hostConfigFile(
    chart: RenderedChart,
    objects: NamespaceObjects,
    // biome-ignore lint/suspicious/noExplicitAny: the raw YAML document, edited by path
    adjust: (raw: any) => void,
  ): string {
    const mounted = mountContainer(chart, objects, this.folder('pod'));
    const raw = parse(configTextOnHost(readFileSync(mounted.configFile, 'utf8'), mounted));
    adjust(raw);
    const file = join(this.folder('config'), 'config.yaml');
    writeFileSync(file, stringify(raw));
    return file;
  }

  dispose(): void {
    this.certs.dispose();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
