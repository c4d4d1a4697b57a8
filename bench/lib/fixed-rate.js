import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { performance } from 'node:perf_hooks';
import { loopDelayRecorder } from './loop-delay.js';

/** The value at quantile `q` (0..1) of an ascending array, in the array's unit. */
export function quantile(sorted, q) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

/**
 * An open-loop, fixed-rate load: request i is due at start + i/rate whatever happened to earlier
 * ones, and its latency is measured from when it was due, not from when it could be sent. A server that
 * stalls therefore shows the queueing it caused (no coordinated omission, as in wrk2). autocannon's -R
 * fires each second's budget in a burst instead (docs/design.md §10), so it is only used for max throughput.
 *
 * @param {object} o
 * @param {string} o.url
 * @param {number} o.rate requests per second
 * @param {number} o.durationMs measured period
 * @param {number} o.warmupMs unmeasured period before it, at the same rate
 * @param {number} o.connections keep-alive connections to spread requests over
 * @param {(i: number) => string} [o.body] request body of request i (none: a bodiless request)
 * @param {string} [o.method] default POST
 * @param {(i: number) => Record<string, string>} [o.headersOf] per-request headers, added to `headers`
 * @param {Record<string, string>} o.headers
 * @param {{ca: string, cert: string, key: string}} [o.tls] client TLS (for https:// URLs)
 * @param {() => void} [o.onMeasureStart] called when the measured period begins
 * The result carries the load generator's own event-loop delay over the measured period
 * (`clientLoopDelay`, ms), the p99 of how late requests left it (`sendLagP99`, ms), the p99 from
 * leaving it to the end of the response (`afterSendP99`, ms) and the
 * connections it had to open while measuring: latency they explain is the client's, not the server's.
 */
export async function runFixedRate(o) {
  const secure = o.url.startsWith('https:');
  const agent = secure
    ? new HttpsAgent({ keepAlive: true, maxSockets: o.connections, ...o.tls })
    : new HttpAgent({ keepAlive: true, maxSockets: o.connections });
  const request = secure ? httpsRequest : httpRequest;
  const interval = 1000 / o.rate;
  const total = Math.round((o.rate * (o.warmupMs + o.durationMs)) / 1000);
  const measuredFrom = o.warmupMs;
  const latencies = new Float64Array(total);
  let measured = 0;
  let errors = 0;
  let non200 = 0;
  let done = 0;
  let sent = 0;
  // How late each measured request left the client (its schedule slipped while the client was busy):
  // latency the load generator itself added before the server saw anything.
  const sendLags = new Float64Array(total);
  let lagged = 0;
  // Connections the client had to open while measuring (a TLS handshake each): a latency tail that
  // they explain is the connection pool's, not the server's review path.
  const sockets = new WeakSet();
  let measuring = false;
  let opened = 0;
  let finish;
  const finished = new Promise((resolve) => {
    finish = resolve;
  });
  const start = performance.now();
  const clientLoop = loopDelayRecorder();
  const measureStart = setTimeout(() => {
    measuring = true;
    clientLoop.start();
    o.onMeasureStart?.();
  }, o.warmupMs);

  const afterSend = new Float64Array(total);
  let afterSendCount = 0;
  function complete(due, ok, status, sentAt) {
    if (ok && due - start >= measuredFrom) afterSend[afterSendCount++] = performance.now() - sentAt;
    if (!ok) errors++;
    else if (status !== 200) non200++;
    if (ok && due - start >= measuredFrom) latencies[measured++] = performance.now() - due;
    if (++done === total) finish();
  }

  function fire(due, i) {
    const sentAt = performance.now();
    if (due - start >= measuredFrom) sendLags[lagged++] = sentAt - due;
    const body = o.body?.(i);
    const req = request(o.url, {
      method: o.method ?? 'POST',
      agent,
      headers: {
        ...o.headers,
        ...o.headersOf?.(i),
        ...(body === undefined ? {} : { 'content-length': Buffer.byteLength(body) }),
      },
    });
    req.on('socket', (socket) => {
      if (sockets.has(socket)) return;
      sockets.add(socket);
      if (measuring) opened++;
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => complete(due, true, res.statusCode, sentAt));
    });
    req.on('error', () => complete(due, false, 0, sentAt));
    req.end(body);
  }

  function tick() {
    const now = performance.now();
    while (sent < total && start + sent * interval <= now) {
      fire(start + sent * interval, sent);
      sent++;
    }
    if (sent < total) setTimeout(tick, Math.max(0, start + sent * interval - performance.now()));
  }
  tick();

  const timeout = setTimeout(finish, o.warmupMs + o.durationMs + 30_000);
  await finished;
  clearTimeout(timeout);
  clearTimeout(measureStart);
  const clientLoopDelay = clientLoop.read();
  agent.destroy();
  const sorted = latencies.slice(0, measured).sort();
  return {
    offered: o.rate,
    measured,
    errors,
    non200,
    lost: total - done,
    p50: quantile(sorted, 0.5),
    p90: quantile(sorted, 0.9),
    p99: quantile(sorted, 0.99),
    p999: quantile(sorted, 0.999),
    max: sorted[sorted.length - 1],
    clientLoopDelay,
    sendLagP99: quantile(sendLags.slice(0, lagged).sort(), 0.99),
    /** p99 from the moment a request left the client to the end of its response. */
    afterSendP99: quantile(afterSend.slice(0, afterSendCount).sort(), 0.99),
    connectionsOpened: opened,
  };
}
