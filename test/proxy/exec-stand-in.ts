import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { CertificateAuthority } from '../support/certs.js';

/**
 * Just enough of an apiserver for `kubectl exec` to run a command over WebSocket
 * (`v5.channel.k8s.io`, what kubectl ≥ 1.31 tries first): discovery naming `pods`, one running pod
 * `web-0`, and an exec endpoint that answers the upgrade, writes one line on the stdout channel naming
 * the `Impersonate-User` it was called with, then a Success status on the error channel, then closes.
 * The test world's real kube-apiserver has no kubelet behind it, so exec cannot run there.
 */
export interface ExecStandIn {
  url: string;
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

function channel(id: number, text: string): Buffer {
  return frame(0x2, Buffer.concat([Buffer.from([id]), Buffer.from(text)]));
}

export async function startExecStandIn(ca: CertificateAuthority): Promise<ExecStandIn> {
  const serving = ca.issue({ commonName: 'apiserver', ipAddresses: ['127.0.0.1'] });
  const sockets = new Set<Duplex>();
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
    const offered = String(req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim());
    if (!offered.includes('v5.channel.k8s.io')) {
      socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    const accept = createHash('sha1')
      .update(`${req.headers['sec-websocket-key']}${WEBSOCKET_GUID}`)
      .digest('base64');
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n`,
    );
    socket.write(channel(1, `hello from the container, run as ${req.headers['impersonate-user']}\n`));
    socket.write(channel(3, '{"metadata":{},"status":"Success"}'));
    socket.end(frame(0x8, Buffer.from([0x03, 0xe8])));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
