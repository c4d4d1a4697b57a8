import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';
import type { ProxyConfig } from '../config/index.js';
import type { Clock } from '../core/clock.js';
import { ConfigError } from '../core/errors.js';

/** Where the proxy forwards to and who it is there. */
export interface UpstreamTarget {
  /** The apiserver's base URL; a path in it (some gateways have one) prefixes every request path. */
  url: URL;
  /** PEM CA bundle the apiserver's serving certificate must chain to (system roots when absent). */
  ca?: string;
  /** Name checked against the serving certificate, when it differs from the URL's host. */
  serverName?: string;
  /** The proxy's client certificate and key (PEM), when that is its credential. */
  clientCert?: { cert: string; key: string };
  /** The proxy's bearer token, read when needed (a projected token file rotates), or undefined. */
  bearerToken(): string | undefined;
}

/** Where the kubelet mounts a pod's service-account credentials. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * Projected service-account tokens are rotated by the kubelet (about hourly, well before they expire);
 * re-reading the file once a minute, as client-go does, picks the new one up.
 */
const TOKEN_FILE_REREAD_SECONDS = 60;

export interface UpstreamSources {
  /** The process environment (`KUBERNETES_SERVICE_HOST`/`_PORT` for the in-cluster case). */
  env: Record<string, string | undefined>;
  clock: Clock;
  /** Folder of the service account's `token` and `ca.crt` (default SERVICE_ACCOUNT_DIR). */
  serviceAccountDir?: string;
}

function problem(path: string, message: string): ConfigError {
  return new ConfigError([{ path, message }]);
}

function readText(file: string, path: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw problem(path, `cannot read ${file}: ${(err as Error).message}`);
  }
}

/** A bearer token from a file, re-read at most once a minute. */
function tokenFileReader(file: string, path: string, clock: Clock): () => string {
  let token = readText(file, path).trim();
  let readAt = clock.now();
  return () => {
    if (clock.now() - readAt >= TOKEN_FILE_REREAD_SECONDS) {
      readAt = clock.now();
      try {
        token = readFileSync(file, 'utf8').trim();
      } catch {
        // Keep the last good token: the kubelet replaces the file atomically, a failed read is transient.
      }
    }
    return token;
  };
}

type Named<T> = { name?: string } & T;
type KubeconfigCluster = Record<string, unknown>;
type KubeconfigUser = Record<string, unknown>;

function named<T>(list: unknown, kind: string, name: string, path: string): T {
  const entry = Array.isArray(list)
    ? (list as Named<Record<string, unknown>>[]).find((e) => e?.name === name)
    : undefined;
  const value = entry?.[kind];
  if (value === null || typeof value !== 'object') throw problem(path, `no ${kind} named "${name}"`);
  return value as T;
}

function stringField(object: Record<string, unknown>, key: string): string | undefined {
  const value = object[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** `…-data` (base64) or the file next to it (relative to the kubeconfig's folder). */
function pemFrom(object: Record<string, unknown>, key: string, baseDir: string, path: string) {
  const data = stringField(object, `${key}-data`);
  if (data !== undefined) return Buffer.from(data, 'base64').toString('utf8');
  const file = stringField(object, key);
  if (file === undefined) return undefined;
  return readText(isAbsolute(file) ? file : resolve(baseDir, file), `${path}.${key}`);
}

/**
 * Reads the upstream kubeconfig's context (the named one, else `current-context`): the cluster's
 * `server`, CA and `tls-server-name`, the user's client certificate or token (or tokenFile). Exec
 * plugins and auth providers are refused: the proxy must hold a credential it can use unattended.
 */
export function upstreamFromKubeconfig(
  file: string,
  context: string | undefined,
  clock: Clock,
): UpstreamTarget {
  const path = 'proxy.upstream.kubeconfig';
  const baseDir = dirname(file);
  let doc: Record<string, unknown>;
  try {
    doc = parse(readText(file, path)) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw problem(path, `not a kubeconfig: ${(err as Error).message}`);
  }
  if (doc === null || typeof doc !== 'object') throw problem(path, 'not a kubeconfig');
  const contextName = context ?? stringField(doc, 'current-context');
  if (contextName === undefined) throw problem(path, 'no current-context (set proxy.upstream.context)');
  const ctx = named<Record<string, unknown>>(doc.contexts, 'context', contextName, path);
  const clusterName = stringField(ctx, 'cluster');
  const userName = stringField(ctx, 'user');
  if (clusterName === undefined) throw problem(path, `context "${contextName}" names no cluster`);
  const cluster = named<KubeconfigCluster>(doc.clusters, 'cluster', clusterName, path);
  const server = stringField(cluster, 'server');
  if (server === undefined || !/^https:\/\//.test(server)) {
    throw problem(path, `cluster "${clusterName}": server must be an https:// URL`);
  }
  if (cluster['insecure-skip-tls-verify'] === true) {
    throw problem(path, `cluster "${clusterName}": insecure-skip-tls-verify is refused; give its CA`);
  }
  const user: KubeconfigUser =
    userName === undefined ? {} : named<KubeconfigUser>(doc.users, 'user', userName, path);
  if (user.exec !== undefined || user['auth-provider'] !== undefined) {
    throw problem(path, `user "${userName}": exec and auth-provider credentials are not supported`);
  }
  const cert = pemFrom(user, 'client-certificate', baseDir, path);
  const key = pemFrom(user, 'client-key', baseDir, path);
  if ((cert === undefined) !== (key === undefined)) {
    throw problem(path, `user "${userName}": client-certificate and client-key go together`);
  }
  const token = stringField(user, 'token');
  const tokenFile = stringField(user, 'tokenFile');
  let bearerToken: () => string | undefined = () => token;
  if (token === undefined && tokenFile !== undefined) {
    bearerToken = tokenFileReader(
      isAbsolute(tokenFile) ? tokenFile : resolve(baseDir, tokenFile),
      path,
      clock,
    );
  }
  if (cert === undefined && token === undefined && tokenFile === undefined) {
    throw problem(path, `user "${userName ?? ''}" has no client certificate and no token`);
  }
  return {
    url: new URL(server),
    ca: pemFrom(cluster, 'certificate-authority', baseDir, path),
    serverName: stringField(cluster, 'tls-server-name'),
    clientCert: cert !== undefined && key !== undefined ? { cert, key } : undefined,
    bearerToken,
  };
}

/**
 * The pod's own service account, as client-go's in-cluster config reads it: the apiserver at
 * `KUBERNETES_SERVICE_HOST:KUBERNETES_SERVICE_PORT`, the mounted `ca.crt` and `token` (re-read as it rotates).
 */
export function upstreamInCluster(sources: UpstreamSources): UpstreamTarget {
  const host = sources.env.KUBERNETES_SERVICE_HOST;
  const port = sources.env.KUBERNETES_SERVICE_PORT;
  const path = 'proxy.upstream';
  if (!host || !port) {
    throw problem(path, 'no kubeconfig given and not running in a pod (KUBERNETES_SERVICE_HOST/PORT unset)');
  }
  const dir = sources.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  return {
    url: new URL(`https://${host.includes(':') ? `[${host}]` : host}:${port}`),
    ca: readText(resolve(dir, 'ca.crt'), `${path} (service account CA)`),
    bearerToken: tokenFileReader(resolve(dir, 'token'), `${path} (service account token)`, sources.clock),
  };
}

/** The upstream `proxy.upstream` describes: its kubeconfig, else the in-cluster service account. */
export function resolveUpstream(config: ProxyConfig, sources: UpstreamSources): UpstreamTarget {
  const kubeconfig = config.upstream.kubeconfig;
  if (kubeconfig !== undefined)
    return upstreamFromKubeconfig(kubeconfig, config.upstream.context, sources.clock);
  return upstreamInCluster(sources);
}
