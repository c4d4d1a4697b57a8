import { type IncomingMessage, STATUS_CODES } from 'node:http';
import { request } from 'node:https';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { planAuditFields, planForward, requestAuditFields } from './forward-plan.js';
import { kubernetesStatus, statusHeaders } from './kubernetes-status.js';
import { responseHeaders } from './request-headers.js';
import { limitConnectTime, type RelayDeps } from './request-relay.js';

/** An upstream refusal of an upgrade is relayed whole; it is a small Status, bounded here. */
const MAX_REFUSAL_BYTES = 1024 * 1024;

/** Writes a complete HTTP/1.1 response onto a raw socket and closes it. */
function writeRawResponse(
  socket: Duplex,
  status: number,
  headers: readonly string[],
  body: Buffer | string,
): void {
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
  for (let i = 0; i + 1 < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  socket.write(`${head}\r\n`);
  socket.end(body);
}

function flatten(headers: Record<string, string>): string[] {
  return Object.entries(headers).flat();
}

/**
 * Relays protocol upgrades (`exec`, `attach`, `port-forward`): SPDY/3.1 and WebSocket
 * (`v5.channel.k8s.io`, `portforward.k8s.io`…) alike, since after the handshake they are only bytes.
 * The upgrade request goes upstream with the same guard ladder and impersonation headers as any other;
 * on a 101 the handshake answer is written back and both sockets are piped until either side closes.
 * A non-101 answer (e.g. a 403 from RBAC, or a server that does not speak the protocol) is relayed.
 */
export function createUpgradeRelay(
  deps: RelayDeps,
): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  const { instruments } = deps;
  return (req, socket, head) => {
    const started = performance.now();
    const fields = requestAuditFields(req, true);
    const elapsed = () => (performance.now() - started) / 1000;
    socket.on('error', () => socket.destroy());

    planForward(req, true, deps)
      .then((plan) => {
        if (!plan.ok) {
          const body = kubernetesStatus(plan.status, plan.message);
          writeRawResponse(
            socket,
            plan.status,
            flatten({ ...statusHeaders(plan.status, body), connection: 'close' }),
            body,
          );
          instruments.record({ ...planAuditFields(fields, plan), status: plan.status }, elapsed());
          return;
        }
        const audit = planAuditFields(fields, plan);
        const upstream = request(plan.options);
        limitConnectTime(upstream, deps.connectTimeoutMs);
        upstream.on('upgrade', (answer, upstreamSocket, upstreamHead) => {
          instruments.record({ ...audit, status: answer.statusCode ?? 101 }, elapsed());
          instruments.opened('upgrade');
          let open = true;
          const closeBoth = () => {
            if (!open) return;
            open = false;
            deps.upgraded.delete(closeBoth);
            instruments.closed('upgrade');
            socket.destroy();
            upstreamSocket.destroy();
          };
          deps.upgraded.add(closeBoth);
          upstreamSocket.on('error', closeBoth);
          upstreamSocket.on('close', closeBoth);
          socket.on('close', closeBoth);
          let handshake = `HTTP/1.1 ${answer.statusCode} ${answer.statusMessage}\r\n`;
          const headers = responseHeaders(answer.rawHeaders, true);
          for (let i = 0; i + 1 < headers.length; i += 2) handshake += `${headers[i]}: ${headers[i + 1]}\r\n`;
          socket.write(`${handshake}\r\n`);
          if (upstreamHead.length > 0) socket.write(upstreamHead);
          if (head.length > 0) upstreamSocket.write(head);
          upstreamSocket.pipe(socket);
          socket.pipe(upstreamSocket);
        });
        upstream.on('response', (answer) => {
          const chunks: Buffer[] = [];
          let size = 0;
          answer.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size <= MAX_REFUSAL_BYTES) chunks.push(chunk);
          });
          answer.on('end', () => {
            const body = Buffer.concat(chunks);
            const headers = responseHeaders(answer.rawHeaders).filter((_, i, all) => {
              const name = (i % 2 === 0 ? all[i] : all[i - 1])?.toLowerCase();
              return name !== 'content-length';
            });
            headers.push('Content-Length', String(body.length), 'Connection', 'close');
            writeRawResponse(socket, answer.statusCode ?? 502, headers, body);
            instruments.record({ ...audit, status: answer.statusCode ?? 502 }, elapsed());
          });
          answer.on('error', () => socket.destroy());
        });
        upstream.on('error', (err) => {
          instruments.upstreamError('upgrade');
          if (socket.destroyed) return;
          const body = kubernetesStatus(502, 'upstream apiserver unreachable');
          writeRawResponse(socket, 502, flatten({ ...statusHeaders(502, body), connection: 'close' }), body);
          instruments.record(
            { ...audit, result: 'upstream_error', status: 502, reason: err.message },
            elapsed(),
          );
        });
        socket.once('close', () => upstream.destroy());
        upstream.end();
      })
      .catch((err: unknown) => {
        deps.logger.error({ err }, 'proxy upgrade relay failed');
        socket.destroy();
      });
  };
}
