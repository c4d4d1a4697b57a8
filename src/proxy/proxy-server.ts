import { readFileSync } from 'node:fs';
import { Agent, createServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { ProxyConfig } from '../config/index.js';
import type { Logger } from '../core/logger.js';
import {
  earliestNotAfter,
  type Metrics,
  type RunningServer,
  recordCertificateExpiry,
  startServer,
} from '../http/index.js';
import type { ProxyAuthenticator } from './authenticate.js';
import { kubernetesStatus, statusHeaders } from './kubernetes-status.js';
import { ProxyInstruments } from './proxy-instruments.js';
import { createRequestRelay } from './request-relay.js';
import { createUpgradeRelay } from './upgrade-relay.js';
import type { UpstreamTarget } from './upstream-target.js';

export interface ProxyDeps {
  config: ProxyConfig;
  /** Where requests go and the proxy's own credentials there (resolveUpstream). */
  upstream: UpstreamTarget;
  /** The verifier's decision at this proxy's audiences (decideTokenReview, bound). */
  decide: ProxyAuthenticator['decide'];
  metrics: Metrics;
  logger: Logger;
}

/** Longer than Go's idle-connection timeout (90 s), so kubectl closes idle connections first. */
const KEEP_ALIVE_TIMEOUT_MS = 120_000;

/** What node's parser refused (smuggling shapes, bad header names): a 400 Status and the connection closed. */
function answerClientError(socket: Duplex, instruments: ProxyInstruments, code: string): void {
  if (socket.writable) {
    const body = kubernetesStatus(400, 'malformed HTTP request');
    let head = 'HTTP/1.1 400 Bad Request\r\n';
    for (const [name, value] of Object.entries({ ...statusHeaders(400, body), connection: 'close' })) {
      head += `${name}: ${value}\r\n`;
    }
    socket.end(`${head}\r\n${body}`);
  } else {
    socket.destroy();
  }
  instruments.record({ result: 'bad_request', method: '', verb: '', path: '', status: 400, reason: code }, 0);
}

/**
 * Starts the impersonation proxy: HTTPS with the serving certificate from `proxy.tls`, every request
 * (and every protocol upgrade) authenticated with the verifier's decision and forwarded to the upstream
 * apiserver as the person it maps to. Raw node:https on the hot path; nothing here is koa.
 */
export async function startProxy(deps: ProxyDeps): Promise<RunningServer> {
  const { config, upstream, metrics, logger } = deps;
  const instruments = new ProxyInstruments(metrics, logger);
  const tlsOptions = {
    ca: upstream.ca,
    servername: upstream.serverName,
    keepAlive: true,
    maxFreeSockets: 64,
  };
  const relayDeps = {
    authenticator: { decide: deps.decide, tokenPassthrough: config.tokenPassthrough },
    upstream,
    ownAgent: new Agent({ ...tlsOptions, cert: upstream.clientCert?.cert, key: upstream.clientCert?.key }),
    passthroughAgent: new Agent(tlsOptions),
    logger,
    instruments,
    connectTimeoutMs: config.upstream.connectTimeout * 1000,
    upgraded: new Set<() => void>(),
  };

  const cert = readFileSync(config.tls.cert);
  const server = createServer(
    { cert, key: readFileSync(config.tls.key), minVersion: 'TLSv1.2' },
    createRequestRelay(relayDeps),
  );
  server.on('upgrade', createUpgradeRelay(relayDeps));
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) =>
    answerClientError(socket, instruments, String(err.code ?? 'clientError')),
  );
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.on('secureConnection', (socket) => socket.setNoDelay(true));

  recordCertificateExpiry(metrics, 'proxy', { serving: config.tls.cert });
  // The upstream CA comes from the kubeconfig's data or the service account's mount, as PEM text.
  if (upstream.ca !== undefined) {
    try {
      metrics.certificateExpiry.set(
        { role: 'proxy', certificate: 'upstream_ca' },
        earliestNotAfter(upstream.ca),
      );
    } catch (err) {
      logger.warn({ err }, 'cannot read the expiry of the upstream CA');
    }
  }

  const running = await startServer(server, { protocol: 'https', listen: config.listen });
  const close = running.close;
  running.close = async () => {
    // Upgraded connections (exec, port-forward) are not the http server's any more: closeGracefully
    // would wait for them forever. They are cut first; requests in flight drain as usual.
    for (const closeUpgraded of [...relayDeps.upgraded]) closeUpgraded();
    await close();
    relayDeps.ownAgent.destroy();
    relayDeps.passthroughAgent.destroy();
  };
  logger.info(
    { url: running.url, upstream: upstream.url.origin, tokenPassthrough: config.tokenPassthrough },
    'proxy listening',
  );
  return running;
}
