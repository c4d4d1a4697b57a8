import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { stringify } from 'yaml';
import type { CertWorkspace } from '../support/certs.js';

/**
 * A scripted token webhook for testing the apiserver double itself: HTTPS with a required client
 * certificate, answers whatever the test queues, and records what it received.
 */
export interface ReceivedReview {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** CN of the client certificate the caller presented. */
  clientCN: string;
  /** performance.now() when the request arrived. */
  at: number;
}

export interface ScriptedAnswer {
  status: number;
  headers?: OutgoingHttpHeaders;
  body: unknown;
}

export type Responder = (review: {
  apiVersion: string;
  spec: { token: string; audiences?: string[] };
}) => ScriptedAnswer;

export interface ThrowawayWebhook {
  /** Path of a webhook kubeconfig for the double (client certificate of the "apiserver" included). */
  kubeconfigFile: string;
  received: ReceivedReview[];
  /** Sets how the next requests are answered (the last queued responder repeats). */
  answer(...responders: Responder[]): void;
  close(): Promise<void>;
}

/** A TokenReview answer in the version that was asked, with the given status. */
export function reviewAnswer(status: Record<string, unknown>, apiVersionOverride?: string): Responder {
  return (review) => ({
    status: 200,
    body: { apiVersion: apiVersionOverride ?? review.apiVersion, kind: 'TokenReview', status },
  });
}

export async function startThrowawayWebhook(certs: CertWorkspace, name: string): Promise<ThrowawayWebhook> {
  const serverCA = certs.createCA(`${name}-webhook`);
  const clientCA = certs.createCA(`${name}-apiserver-clients`);
  const serving = serverCA.issue({ commonName: 'webhook', ipAddresses: ['127.0.0.1'] });
  const apiserverClient = clientCA.issue({ commonName: 'kube-apiserver-client', client: true });
  const received: ReceivedReview[] = [];
  let queue: Responder[] = [reviewAnswer({ authenticated: false })];

  const server = createServer(
    { cert: serving.cert, key: serving.key, ca: clientCA.cert, requestCert: true, rejectUnauthorized: true },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const at = performance.now();
        const body = Buffer.concat(chunks).toString('utf8');
        const peer = (req.socket as TLSSocket).getPeerCertificate();
        received.push({
          path: req.url ?? '',
          headers: req.headers,
          body,
          clientCN: String(peer.subject?.CN ?? ''),
          at,
        });
        const responder = queue.length > 1 ? (queue.shift() as Responder) : (queue[0] as Responder);
        const answer = responder(JSON.parse(body));
        const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
        res.writeHead(answer.status, { 'Content-Type': 'application/json', ...answer.headers });
        res.end(text);
      });
    },
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;

  const kubeconfigFile = join(certs.dir, `${name}-webhook.kubeconfig`);
  writeFileSync(
    kubeconfigFile,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'verifier',
          cluster: {
            server: `https://127.0.0.1:${port}/authenticate`,
            'certificate-authority': serverCA.certFile,
          },
        },
      ],
      users: [
        {
          name: 'kube-apiserver',
          user: {
            'client-certificate-data': Buffer.from(apiserverClient.cert).toString('base64'),
            'client-key': apiserverClient.keyFile,
          },
        },
      ],
      contexts: [{ name: 'webhook', context: { cluster: 'verifier', user: 'kube-apiserver' } }],
      'current-context': 'webhook',
    }),
  );

  return {
    kubeconfigFile,
    received,
    answer(...responders) {
      queue = responders;
    },
    async close() {
      server.closeAllConnections();
      server.close();
    },
  };
}
