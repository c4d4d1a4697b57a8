import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { CertificateAuthority } from '../support/certs.js';

/** One request as the stand-in received it. */
export interface SeenRequest {
  method: string;
  url: string;
  /** Every header line as received (any case, repeats kept). */
  rawHeaders: string[];
  /** CN of the client certificate presented, if any. */
  clientCN?: string;
  body: string;
  upgrade: boolean;
}

/**
 * A small upstream that stands in for an apiserver where the real one cannot be used: it records every
 * request it sees (headers as received, the client certificate presented) and answers
 * - `GET /stream`: a chunked response whose chunks the test releases one by one (`releaseChunk`);
 * - protocol upgrades (`Upgrade: websocket` with the RFC 6455 accept key, or `SPDY/3.1`): a 101, then
 *   every byte received is echoed back, prefixed with `echo:` once;
 * - anything else: 200 `{"path": …}` (JSON).
 * The real kube-apiserver has no kubelet behind it in the test world, so exec/attach/port-forward
 * upgrades are exercised against this.
 */
export interface UpstreamStandIn {
  url: string;
  seen: SeenRequest[];
  /** Sends the next chunk on every open `/stream` response ('' ends them). */
  releaseChunk(text: string): void;
  /** Number of `/stream` responses whose client has gone away. */
  streamsClosed(): number;
  close(): Promise<void>;
}

const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export async function startUpstreamStandIn(
  ca: CertificateAuthority,
  clientCA?: CertificateAuthority,
): Promise<UpstreamStandIn> {
  const serving = ca.issue({ commonName: 'apiserver', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  const seen: SeenRequest[] = [];
  const streams = new Set<ServerResponse>();
  const upgraded = new Set<import('node:stream').Duplex>();
  let closedStreams = 0;

  function record(req: IncomingMessage, body: string, upgrade: boolean): void {
    const peer = (req.socket as TLSSocket).getPeerCertificate?.();
    seen.push({
      method: req.method ?? '',
      url: req.url ?? '',
      rawHeaders: [...req.rawHeaders],
      clientCN: peer && typeof peer.subject?.CN === 'string' ? peer.subject.CN : undefined,
      body,
      upgrade,
    });
  }

  const server: Server = createServer(
    {
      cert: serving.cert,
      key: serving.key,
      ...(clientCA ? { ca: clientCA.cert, requestCert: true, rejectUnauthorized: false } : {}),
    },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        record(req, Buffer.concat(chunks).toString(), false);
        if (req.url === '/stream') {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.flushHeaders();
          streams.add(res);
          res.on('close', () => {
            streams.delete(res);
            if (!res.writableFinished) closedStreams += 1;
          });
          return;
        }
        const body = JSON.stringify({ path: req.url });
        res.writeHead(200, {
          'content-type': 'application/json',
          'x-upstream': 'stand-in',
          connection: 'keep-alive, x-upstream-private',
          'x-upstream-private': 'hop',
        });
        res.end(body);
      });
    },
  );
  server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => {
    record(req, '', true);
    const protocol = headerOf(req, 'upgrade') ?? '';
    let answer: string;
    if (protocol.toLowerCase() === 'websocket') {
      const accept = createHash('sha1')
        .update(`${headerOf(req, 'sec-websocket-key')}${WEBSOCKET_GUID}`)
        .digest('base64');
      const sub = headerOf(req, 'sec-websocket-protocol')?.split(',')[0]?.trim();
      answer = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n${sub ? `Sec-WebSocket-Protocol: ${sub}\r\n` : ''}\r\n`;
    } else if (protocol === 'SPDY/3.1') {
      answer = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: SPDY/3.1\r\nConnection: Upgrade\r\nX-Stream-Protocol-Version: ${headerOf(req, 'x-stream-protocol-version') ?? ''}\r\n\r\n`;
    } else {
      socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    upgraded.add(socket);
    socket.on('close', () => upgraded.delete(socket));
    socket.write(answer);
    socket.write('echo:');
    if (head.length > 0) socket.write(head);
    socket.on('data', (chunk: Buffer) => socket.write(chunk));
    socket.on('error', () => socket.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    seen,
    releaseChunk(text) {
      for (const res of streams) {
        if (text === '') res.end();
        else res.write(text);
      }
    },
    streamsClosed: () => closedStreams,
    async close() {
      for (const socket of upgraded) socket.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Header values the stand-in saw under `name` (case-insensitive), in order. */
export function headerValues(request: SeenRequest, name: string): string[] {
  const lower = name.toLowerCase();
  const out: string[] = [];
  for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
    if ((request.rawHeaders[i] as string).toLowerCase() === lower)
      out.push(request.rawHeaders[i + 1] as string);
  }
  return out;
}
