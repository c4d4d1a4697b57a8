import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import { request } from 'node:https';
import { performance } from 'node:perf_hooks';
import { type ForwardDeps, planAuditFields, planForward, requestAuditFields } from './forward-plan.js';
import { kubernetesStatus, statusHeaders } from './kubernetes-status.js';
import type { ProxyInstruments } from './proxy-instruments.js';
import { responseHeaders } from './request-headers.js';

export interface RelayDeps extends ForwardDeps {
  instruments: ProxyInstruments;
  /** Milliseconds a new upstream connection (TCP + TLS) may take. */
  connectTimeoutMs: number;
  /** Closers of the upgraded connections open now: the server's graceful close does not reach them. */
  upgraded: Set<() => void>;
}

/**
 * Fails an upstream request whose connection is not up in time. Not the socket's idle timeout: a watch
 * may rightly stay silent for minutes.
 */
export function limitConnectTime(upstream: ClientRequest, ms: number): void {
  upstream.on('socket', (socket) => {
    // Small writes (headers, then a chunk) must not wait for the peer's delayed ACK (Nagle).
    socket.setNoDelay(true);
    if (!socket.connecting) return;
    const timer = setTimeout(() => upstream.destroy(new Error('upstream connect timeout')), ms);
    socket.once('secureConnect', () => clearTimeout(timer));
    socket.once('close', () => clearTimeout(timer));
  });
}

/**
 * Relays ordinary requests: refusals are answered here with a `Status`; accepted requests stream both
 * ways without buffering (request bodies, `watch`, `logs -f`). Response headers are flushed at once so
 * a silent watch is still seen to have started. If the upstream breaks mid-stream the client's
 * connection is cut rather than ended cleanly, so a watcher knows to resume.
 */
export function createRequestRelay(deps: RelayDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const { instruments } = deps;
  return (req, res) => {
    const started = performance.now();
    const fields = requestAuditFields(req, false);
    const elapsed = () => (performance.now() - started) / 1000;
    instruments.opened('request');
    res.once('close', () => instruments.closed('request'));

    planForward(req, false, deps)
      .then((plan) => {
        if (!plan.ok) {
          const body = kubernetesStatus(plan.status, plan.message);
          const headers = statusHeaders(plan.status, body);
          // An unread body would be parsed as the next request: close instead.
          if (!req.complete && req.headers['content-length'] !== '0') headers.connection = 'close';
          res.writeHead(plan.status, headers);
          res.end(body);
          req.resume();
          instruments.record({ ...planAuditFields(fields, plan), status: plan.status }, elapsed());
          return;
        }
        const upstream = request(plan.options);
        limitConnectTime(upstream, deps.connectTimeoutMs);
        upstream.on('response', (answer) => {
          const status = answer.statusCode ?? 502;
          res.writeHead(status, answer.statusMessage, responseHeaders(answer.rawHeaders));
          // A stream (no Content-Length: watch, logs -f) shows it started at once; a sized answer goes
          // out with its body in one write.
          if (answer.headers['content-length'] === undefined) res.flushHeaders();
          instruments.record({ ...planAuditFields(fields, plan), status }, elapsed());
          answer.pipe(res);
          answer.once('close', () => {
            if (!answer.complete) res.destroy();
          });
        });
        upstream.on('error', (err) => {
          instruments.upstreamError('request');
          if (res.headersSent) {
            res.destroy();
            return;
          }
          const body = kubernetesStatus(502, 'upstream apiserver unreachable');
          res.writeHead(502, { ...statusHeaders(502, body), connection: 'close' });
          res.end(body);
          instruments.record(
            {
              ...fields,
              result: 'upstream_error',
              status: 502,
              username: plan.username,
              reason: err.message,
            },
            elapsed(),
          );
        });
        // The client went away (e.g. kubectl stopped a watch): stop the upstream request too.
        res.once('close', () => {
          if (!res.writableFinished) upstream.destroy();
        });
        req.pipe(upstream);
      })
      .catch((err: unknown) => {
        deps.logger.error({ err }, 'proxy relay failed');
        res.destroy();
      });
  };
}
