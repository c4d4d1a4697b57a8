import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';

/**
 * What kube-apiserver takes from its `--authentication-token-webhook-config-file`: a kubeconfig whose
 * current context names the webhook (the "cluster") and the apiserver's own credentials (the "user").
 * Read the way client-go's clientcmd reads it: relative file paths resolve against the kubeconfig's
 * folder, and `*-data` fields override their file twins.
 */
export interface WebhookEndpoint {
  /** The exact URL reviews are POSTed to (`clusters[].cluster.server`). */
  server: URL;
  /** PEM bundle the webhook's serving certificate must chain to; undefined = system roots. */
  ca?: string;
  insecureSkipTLSVerify: boolean;
  tlsServerName?: string;
  /** The apiserver's client certificate and key (PEM), presented on every connection. */
  clientCert?: string;
  clientKey?: string;
  /** A bearer token the apiserver sends instead of (or besides) a client certificate. */
  token?: string;
}

type Named<K extends string, T> = { name?: string } & { [key in K]?: T };

interface Kubeconfig {
  'current-context'?: string;
  contexts?: Named<'context', { cluster?: string; user?: string }>[];
  clusters?: Named<
    'cluster',
    {
      server?: string;
      'certificate-authority'?: string;
      'certificate-authority-data'?: string;
      'insecure-skip-tls-verify'?: boolean;
      'tls-server-name'?: string;
    }
  >[];
  users?: Named<
    'user',
    {
      'client-certificate'?: string;
      'client-certificate-data'?: string;
      'client-key'?: string;
      'client-key-data'?: string;
      token?: string;
      tokenFile?: string;
    }
  >[];
}

function pem(data: string | undefined, file: string | undefined, baseDir: string): string | undefined {
  if (data) return Buffer.from(data, 'base64').toString('utf8');
  if (file) return readFileSync(isAbsolute(file) ? file : resolve(baseDir, file), 'utf8');
  return undefined;
}

function find<K extends string, T>(list: Named<K, T>[] | undefined, key: K, name: string, what: string): T {
  const entry = list?.find((e) => e.name === name)?.[key];
  if (!entry) throw new Error(`webhook kubeconfig: ${what} "${name}" not found`);
  return entry;
}

/** Parses a webhook kubeconfig file; throws with the reason when the apiserver would refuse to start. */
export function readWebhookKubeconfig(file: string): WebhookEndpoint {
  const baseDir = dirname(resolve(file));
  const config = (parse(readFileSync(file, 'utf8')) ?? {}) as Kubeconfig;
  const contextName = config['current-context'];
  if (!contextName) throw new Error('webhook kubeconfig: current-context is not set');
  const context = find(config.contexts, 'context', contextName, 'context');
  const cluster = find(config.clusters, 'cluster', context.cluster ?? '', 'cluster');
  const user = context.user ? find(config.users, 'user', context.user, 'user') : {};
  if (!cluster.server) throw new Error(`webhook kubeconfig: cluster "${context.cluster}" has no server`);
  const tokenFromFile = user.tokenFile
    ? readFileSync(isAbsolute(user.tokenFile) ? user.tokenFile : resolve(baseDir, user.tokenFile), 'utf8')
    : undefined;
  return {
    server: new URL(cluster.server),
    ca: pem(cluster['certificate-authority-data'], cluster['certificate-authority'], baseDir),
    insecureSkipTLSVerify: cluster['insecure-skip-tls-verify'] === true,
    tlsServerName: cluster['tls-server-name'],
    clientCert: pem(user['client-certificate-data'], user['client-certificate'], baseDir),
    clientKey: pem(user['client-key-data'], user['client-key'], baseDir),
    token: user.token ?? tokenFromFile?.trim(),
  };
}
