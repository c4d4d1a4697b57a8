import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { CertificateAuthority } from '../support/certs.js';
import { type SpdyStream, spdyServer } from './spdy-stand-in.js';

/**
 * Just enough of an apiserver for `kubectl exec` and `kubectl port-forward` to run against one running
 * pod `web-0` (the test world's real kube-apiserver has no kubelet behind it, so neither can run there):
 * - exec over WebSocket (`v5.channel.k8s.io`, what kubectl ≥ 1.31 tries first): one line on the stdout
 *   channel naming the `Impersonate-User` it was called with, a Success status, then close;
 * - port-forward over SPDY/3.1, tunnelled in WebSocket (`SPDY/3.1+portforward.k8s.io`, kubectl's first
 *   try) or after `Upgrade: SPDY/3.1` (its fallback): every data stream echoes what it receives,
 *   prefixed with the `Impersonate-User` of the upgrade request.
 */
export interface PodStandIn {
  url: string;
  /** How each port-forward connected: `websocket` (tunnelled SPDY) or `spdy`. */
  portForwards: string[];
  close(): Promise<void>;
}

const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

const POD = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web-0', namespace: 'default', uid: 'u-web-0' },
  spec: { containers: [{ name: 'app', image: 'registry.example/web:1' }] },
  status: { phase: 'Running' },
};

const DISCOVERY: Record<string, unknown> = {
  '/api': { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] },
  '/apis': { kind: 'APIGroupList', apiVersion: 'v1', groups: [] },
  '/api/v1': {
    kind: 'APIResourceList',
    groupVersion: 'v1',
    resources: [
      { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: ['get', 'list'] },
      {
        name: 'pods/exec',
        singularName: '',
        namespaced: true,
        kind: 'PodExecOptions',
        verbs: ['create', 'get'],
      },
      {
        name: 'pods/portforward',
        singularName: '',
        namespaced: true,
        kind: 'PodPortForwardOptions',
        verbs: ['create', 'get'],
      },
    ],
  },
  '/api/v1/namespaces/default/pods/web-0': POD,
};

/** One unmasked binary WebSocket frame (server to client), payload under 64 KiB. */
function frame(opcode: number, payload: Buffer): Buffer {
  const header =
    payload.length < 126
      ? Buffer.from([0x80 | opcode, payload.length])
      : Buffer.from([0x80 | opcode, 126, payload.length >> 8, payload.length & 0xff]);
  return Buffer.concat([header, payload]);
}

/** Reads the client's (masked) WebSocket frames off `socket`: binary payloads to `onPayload`. */
function readFrames(socket: Duplex, onPayload: (payload: Buffer) => void): void {
  let pending = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    for (;;) {
      if (pending.length < 2) return;
      const opcode = (pending[0] ?? 0) & 0x0f;
      let length = (pending[1] ?? 0) & 0x7f;
      let at = 2;
      if (length === 126) {
        if (pending.length < 4) return;
        length = pending.readUInt16BE(2);
        at = 4;
      } else if (length === 127) {
        if (pending.length < 10) return;
        length = Number(pending.readBigUInt64BE(2));
        at = 10;
      }
      if (pending.length < at + 4 + length) return;
      const mask = pending.subarray(at, at + 4);
      const payload = Buffer.from(pending.subarray(at + 4, at + 4 + length));
      for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] ?? 0) ^ (mask[i % 4] ?? 0);
      pending = pending.subarray(at + 4 + length);
      if (opcode === 0x8) {
        socket.end(frame(0x8, Buffer.from([0x03, 0xe8])));
        return;
      }
      if (opcode === 0x2 || opcode === 0x0) onPayload(payload);
    }
  });
}

/** Each port-forward data stream echoes what it gets, naming whom the upgrade impersonated. */
function echoStreams(impersonated: string) {
  return (stream: SpdyStream) => {
    if (stream.headers['streamtype'] !== 'data') return;
    stream.onData = (data) => stream.write(Buffer.concat([Buffer.from(`${impersonated} <- `), data]));
  };
}

function channel(id: number, text: string): Buffer {
  return frame(0x2, Buffer.concat([Buffer.from([id]), Buffer.from(text)]));
}

export async function startPodStandIn(ca: CertificateAuthority): Promise<PodStandIn> {
  const serving = ca.issue({ commonName: 'apiserver', ipAddresses: ['127.0.0.1'] });
  const sockets = new Set<Duplex>();
  const portForwards: string[] = [];
  const server = createServer({ cert: serving.cert, key: serving.key }, (req, res) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    const body = DISCOVERY[path];
    res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body ?? { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 404 }));
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const impersonated = String(req.headers['impersonate-user']);
    if (String(req.headers.upgrade).toLowerCase() === 'spdy/3.1') {
      portForwards.push('spdy');
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n' +
          'X-Stream-Protocol-Version: portforward.k8s.io\r\n\r\n',
      );
      const spdy = spdyServer((bytes) => socket.write(bytes), echoStreams(impersonated));
      socket.on('data', (chunk: Buffer) => spdy.feed(chunk));
      socket.on('close', () => spdy.close());
      return;
    }
    const offered = String(req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim());
    const protocol = ['v5.channel.k8s.io', 'SPDY/3.1+portforward.k8s.io'].find((p) => offered.includes(p));
    if (!protocol) {
      socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    const accept = createHash('sha1')
      .update(`${req.headers['sec-websocket-key']}${WEBSOCKET_GUID}`)
      .digest('base64');
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: ${protocol}\r\n\r\n`,
    );
    if (protocol === 'SPDY/3.1+portforward.k8s.io') {
      portForwards.push('websocket');
      const spdy = spdyServer((bytes) => socket.write(frame(0x2, bytes)), echoStreams(impersonated));
      readFrames(socket, (payload) => spdy.feed(payload));
      socket.on('close', () => spdy.close());
      return;
    }
    socket.write(channel(1, `hello from the container, run as ${impersonated}\n`));
    socket.write(channel(3, '{"metadata":{},"status":"Success"}'));
    socket.end(frame(0x8, Buffer.from([0x03, 0xe8])));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    portForwards,
    async close() {
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
