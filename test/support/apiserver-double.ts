import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { stringify } from 'yaml';
import { type Clock, systemClock } from '../../src/core/clock.js';
import { answerKubeApi, unauthorized } from './apiserver-kube-api.js';
import { type AuthenticationOutcome, createTokenAuthenticator } from './apiserver-token-authenticator.js';
import {
  apiserverRetryBackoff,
  createWebhookClient,
  type RetryBackoff,
  type WebhookExchange,
  type WebhookVersion,
} from './apiserver-webhook-client.js';
import { readWebhookKubeconfig } from './apiserver-webhook-kubeconfig.js';
import { type CertWorkspace, createCertWorkspace } from './certs.js';

/**
 * A kube-apiserver double: the only stand-in in this project's tests. It authenticates bearer tokens
 * through a token webhook exactly as kube-apiserver's `--authentication-token-webhook-*` flags make it
 * do (docs/design.md §3: kubeconfig, mTLS, request bytes, version check, audiences, retries, 2-minute cache), and
 * serves kubectl over HTTPS just enough to show who the webhook said the caller is.
 */
export interface ApiserverDoubleOptions {
  /** --authentication-token-webhook-config-file (read once, at start, like the apiserver). */
  webhookConfigFile: string;
  /** --authentication-token-webhook-version; the apiserver's default is still v1beta1. */
  webhookVersion?: WebhookVersion;
  /** Simulated Kubernetes minor version (default 35). Below 34 the request carries `"creationTimestamp":null`. */
  kubernetesMinor?: number;
  /** --api-audiences (default `https://kubernetes.default.svc`); `[]` sends no audiences and checks none. */
  apiAudiences?: string[];
  /** --authentication-token-webhook-cache-ttl in seconds (default 120). */
  cacheTTL?: number;
  /** Clock the cache reads (epoch seconds); a ManualClock lets tests step past the TTL. */
  clock?: Clock;
  /** Retry backoff; tests shrink `initialMs` (and zero `jitter`) to stay quick. */
  retryBackoff?: Partial<RetryBackoff>;
  /** Absolute timeout of one webhook call (client-go's 30s for webhooks). */
  requestTimeoutMs?: number;
  /** How long one second of the webhook's Retry-After lasts (1000); tests shrink it. */
  retryAfterUnitMs?: number;
  /** The token cache's shared lookup timeout (30 s): a lookup still retrying then fails. */
  lookupTimeoutMs?: number;
  /** Where the serving certificate is issued; default a private workspace removed on close. */
  certs?: CertWorkspace;
}

/** One request kubectl (or any client) made to the double. */
export interface ApiRequestRecord {
  method: string;
  path: string;
  status: number;
  outcome: AuthenticationOutcome | { result: 'no-token' };
}

export interface ApiserverDouble {
  /** `https://127.0.0.1:PORT`: the server of a kubectl kubeconfig. */
  url: string;
  /** PEM file of the CA that signed the double's serving certificate. */
  caFile: string;
  /** Every HTTP exchange with the webhook, retries included, in order. */
  reviews: WebhookExchange[];
  /** Every request served to clients, in order. */
  requests: ApiRequestRecord[];
  /** Cache hits and misses of the token cache. */
  cacheStats: { hits: number; misses: number };
  /** Authenticates a token exactly as an incoming request's bearer token would be. */
  authenticate(token: string): Promise<AuthenticationOutcome>;
  /** Forgets cached answers, as if the apiserver restarted. */
  clearCache(): void;
  /**
   * Writes a kubeconfig for kubectl pointing at the double, with `user` as its user entry (e.g.
   * `{ token }` or `{ exec: {...} }`).
   */
  writeKubeconfig(file: string, user?: Record<string, unknown>): void;
  close(): Promise<void>;
}

/**
 * The bearer token of a request as the apiserver's bearertoken authenticator reads it: trimmed header,
 * split on spaces, scheme matched case-insensitively, empty tokens ignored.
 */
function bearerToken(header: string | undefined): string | undefined {
  const parts = (header ?? '').trim().split(' ');
  if (parts.length < 2 || parts[0]?.toLowerCase() !== 'bearer') return undefined;
  return parts[1] || undefined;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export async function startApiserverDouble(options: ApiserverDoubleOptions): Promise<ApiserverDouble> {
  const kubernetesMinor = options.kubernetesMinor ?? 35;
  const reviews: WebhookExchange[] = [];
  const requests: ApiRequestRecord[] = [];
  const client = createWebhookClient({
    endpoint: readWebhookKubeconfig(options.webhookConfigFile),
    version: options.webhookVersion ?? 'v1beta1',
    kubernetesMinor,
    backoff: { ...apiserverRetryBackoff, ...options.retryBackoff },
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    retryAfterUnitMs: options.retryAfterUnitMs,
    log: reviews,
  });
  const authenticator = createTokenAuthenticator({
    client,
    apiAudiences: options.apiAudiences ?? ['https://kubernetes.default.svc'],
    cacheTTL: options.cacheTTL ?? 120,
    lookupTimeoutMs: options.lookupTimeoutMs,
    clock: options.clock ?? systemClock,
  });

  const ownCerts = options.certs === undefined;
  const certs = options.certs ?? createCertWorkspace();
  const ca = certs.createCA('kube-apiserver');
  const serving = ca.issue({
    commonName: 'kube-apiserver',
    dnsNames: ['localhost', 'kubernetes.default.svc'],
    ipAddresses: ['127.0.0.1', '::1'],
  });

  let serverAddress = '';
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Drain the body: nothing the double answers depends on it.
    for await (const _chunk of req) {
      // discard
    }
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'https://double').pathname;
    const token = bearerToken(req.headers.authorization);
    if (token === undefined) {
      // Anonymous requests are disabled, as on clusters that use webhook authentication.
      requests.push({ method, path, status: 401, outcome: { result: 'no-token' } });
      send(res, unauthorized.status, unauthorized.body);
      return;
    }
    const outcome = await authenticator.authenticate(token);
    if (outcome.result !== 'authenticated') {
      requests.push({ method, path, status: 401, outcome });
      send(res, unauthorized.status, unauthorized.body);
      return;
    }
    const answer = answerKubeApi(method, path, outcome.user, {
      kubernetesMinor,
      serverAddress,
      now: new Date(),
    });
    requests.push({ method, path, status: answer.status, outcome });
    send(res, answer.status, answer.body);
  }

  const server: Server = createServer({ cert: serving.cert, key: serving.key }, (req, res) => {
    handle(req, res).catch((err: Error) => send(res, 500, { kind: 'Status', message: err.message }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  serverAddress = `127.0.0.1:${port}`;
  const url = `https://${serverAddress}`;

  return {
    url,
    caFile: ca.certFile,
    reviews,
    requests,
    cacheStats: authenticator.stats,
    authenticate: (token) => authenticator.authenticate(token),
    clearCache: () => authenticator.clearCache(),
    writeKubeconfig(file, user = {}) {
      const kubeconfig = {
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'double', cluster: { server: url, 'certificate-authority': ca.certFile } }],
        users: [{ name: 'user', user }],
        contexts: [{ name: 'double', context: { cluster: 'double', user: 'user' } }],
        'current-context': 'double',
      };
      writeFileSync(file, stringify(kubeconfig), { mode: 0o600 });
    },
    async close() {
      server.closeAllConnections();
      server.close();
      client.close();
      if (ownCerts) certs.dispose();
    },
  };
}
