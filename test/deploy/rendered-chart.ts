import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { helmPath } from '../support/k8s-tools.js';

/** The chart under test, in the repository. */
export const chartDir = fileURLToPath(new URL('../../deploy/helm/kube-oidc-bridge', import.meta.url));

/** The fields of a Kubernetes object the chart tests look at. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  data?: Record<string, string>;
  // biome-ignore lint/suspicious/noExplicitAny: rendered manifests are read field by field, like kubectl's unstructured objects
  spec?: any;
}

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the pinned helm binary with its cache, config and data folders under `home`, so the developer's
 * own repositories and plugins never take part. A non-zero exit is a result (tests assert on refusals).
 */
export function runHelm(args: string[], home: string): Promise<HelmResult> {
  return new Promise((resolve, reject) => {
    execFile(
      helmPath(),
      args,
      {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: home,
          HELM_CACHE_HOME: `${home}/cache`,
          HELM_CONFIG_HOME: `${home}/config`,
          HELM_DATA_HOME: `${home}/data`,
        },
        timeout: 30_000,
        maxBuffer: 8 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') {
          reject(err);
          return;
        }
        resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
      },
    );
  });
}

/** The objects `helm template` produced, with lookups by kind and name. */
export class RenderedChart {
  constructor(
    readonly documents: Manifest[],
    readonly namespace: string,
  ) {}

  all(kind: string): Manifest[] {
    return this.documents.filter((d) => d.kind === kind);
  }

  /** The only object of a kind (or the one with that name); throws when it is not exactly one. */
  one(kind: string, name?: string): Manifest {
    const found = this.all(kind).filter((d) => name === undefined || d.metadata.name === name);
    const [first, ...rest] = found;
    if (first === undefined || rest.length > 0) {
      throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
    }
    return first;
  }

  get deployment(): Manifest {
    return this.one('Deployment');
  }

  /** The bridge's configuration file as the chart's ConfigMap holds it. */
  get configText(): string {
    const text = this.one('ConfigMap').data?.['config.yaml'];
    if (text === undefined) throw new Error('the ConfigMap has no config.yaml');
    return text;
  }
}

export interface RenderOptions {
  valuesFiles?: string[];
  set?: string[];
  namespace?: string;
  home: string;
}

function helmArgs(options: RenderOptions): string[] {
  return [
    ...(options.valuesFiles ?? []).flatMap((f) => ['--values', f]),
    ...(options.set ?? []).flatMap((s) => ['--set', s]),
  ];
}

/** `helm template` for release `kob`; resolves with the failure when helm refuses. */
export async function tryRenderChart(options: RenderOptions): Promise<HelmResult> {
  const namespace = options.namespace ?? 'auth';
  return runHelm(['template', 'kob', chartDir, '--namespace', namespace, ...helmArgs(options)], options.home);
}

/** `helm template`, parsed into objects; throws with helm's message when it refuses. */
export async function renderChart(options: RenderOptions): Promise<RenderedChart> {
  const result = await tryRenderChart(options);
  if (result.code !== 0) throw new Error(`helm template failed: ${result.stderr}`);
  const documents = parseAllDocuments(result.stdout).map((doc) => {
    const [error] = doc.errors;
    if (error) throw new Error(`rendered YAML does not parse: ${error.message}`);
    return doc.toJS() as Manifest | null;
  });
  return new RenderedChart(
    documents.filter((d): d is Manifest => d !== null),
    options.namespace ?? 'auth',
  );
}

/** `helm lint` of the chart with the given values. */
export function lintChart(options: RenderOptions & { strict: boolean }): Promise<HelmResult> {
  return runHelm(
    ['lint', chartDir, ...(options.strict ? ['--strict'] : []), ...helmArgs(options)],
    options.home,
  );
}

/** The NOTES.txt `helm install` prints, from a client-side dry run (no cluster involved). */
export async function releaseNotes(options: RenderOptions): Promise<string> {
  const namespace = options.namespace ?? 'auth';
  const result = await runHelm(
    ['install', 'kob', chartDir, '--dry-run=client', '--namespace', namespace, ...helmArgs(options)],
    options.home,
  );
  if (result.code !== 0) throw new Error(`helm install --dry-run failed: ${result.stderr}`);
  const start = result.stdout.indexOf('NOTES:\n');
  if (start === -1) throw new Error('helm printed no NOTES');
  return result.stdout.slice(start + 'NOTES:\n'.length);
}
