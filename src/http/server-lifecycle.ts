import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ListenAddress, listenURL, parseListenAddress } from './listen-address.js';

/** A started listener: where it is reachable and how to stop it gracefully. */
export interface RunningServer {
  url: string;
  server: Server;
  /** Stops accepting, lets in-flight requests finish (up to the drain timeout), then closes. */
  close(): Promise<void>;
}

export interface StartServerOptions {
  protocol: 'http' | 'https';
  listen: string | ListenAddress;
  /** How long in-flight requests may take after close() before their connections are cut. */
  drainTimeoutMs?: number;
}

const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;
const IDLE_SWEEP_MS = 50;

/**
 * Binds `server` (an http or https server) and resolves once it listens. Port 0 is allowed: the URL
 * reports the port the kernel picked.
 */
export async function startServer(server: Server, options: StartServerOptions): Promise<RunningServer> {
  const { host, port } =
    typeof options.listen === 'string' ? parseListenAddress(options.listen) : options.listen;
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen({ host: host === '' ? undefined : host, port }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const url = listenURL(options.protocol, server.address() as AddressInfo);
  return {
    url,
    server,
    close: () => closeGracefully(server, options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS),
  };
}

/**
 * Graceful stop: refuse new connections, let requests in flight finish, then drop keep-alive
 * connections as soon as they go idle (the apiserver keeps its webhook connections open). After the
 * drain timeout whatever is left is cut, so a stuck client cannot hold shutdown forever.
 */
export async function closeGracefully(server: Server, drainTimeoutMs: number): Promise<void> {
  if (!server.listening) return;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // A connection that finishes its last request after close() is idle again: sweep until all are gone.
  const sweeper = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
  server.closeIdleConnections();
  const deadline = setTimeout(() => server.closeAllConnections(), drainTimeoutMs);
  try {
    await closed;
  } finally {
    clearInterval(sweeper);
    clearTimeout(deadline);
  }
}
