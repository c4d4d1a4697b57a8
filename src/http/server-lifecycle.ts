import type { Server } from 'node:http';
import { type AddressInfo, Server as NetServer } from 'node:net';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { ConnectionTracker } from './connection-tracker.js';
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
/** How often a drain looks for connections that finished their last request. */
const IDLE_SWEEP_MS = 50;

const trackers = new WeakMap<Server, ConnectionTracker>();

/**
 * Binds `server` (an http or https server) and resolves once it listens. Port 0 is allowed: the URL
 * reports the port the kernel picked.
 */
export async function startServer(server: Server, options: StartServerOptions): Promise<RunningServer> {
  const { host, port } =
    typeof options.listen === 'string' ? parseListenAddress(options.listen) : options.listen;
  if (!trackers.has(server)) trackers.set(server, new ConnectionTracker(server));
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
 * Graceful stop: refuse new connections; every response from now on says `Connection: close` (a
 * client never sends its next request into a socket we are about to close); idle keep-alive
 * connections (the apiserver keeps its webhook connections open) are closed a batch per event-loop
 * turn, busy ones once their response is out. After the drain timeout whatever is left is cut, so
 * a stuck client cannot hold shutdown forever.
 */
export async function closeGracefully(server: Server, drainTimeoutMs: number): Promise<void> {
  if (!server.listening) return;
  const tracker = trackers.get(server);
  if (!tracker) {
    // Not started by startServer: node's own drain.
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return;
  }
  tracker.startDraining();
  // net.Server's close stops accepting; http's own close() would also close every idle connection
  // in one go, which is what the batches below avoid.
  const closed = new Promise<void>((resolve) => NetServer.prototype.close.call(server, () => resolve()));
  let done = false;
  const deadline = setTimeout(() => {
    done = true;
    server.closeAllConnections();
  }, drainTimeoutMs);
  const sweep = (async () => {
    // One batch per turn, the first one too: other callbacks (reviews in flight) run in between.
    await nextTurn();
    while (!done && tracker.size > 0) {
      if (tracker.closeIdle() > 0) await nextTurn();
      else await new Promise((resolve) => setTimeout(resolve, IDLE_SWEEP_MS));
    }
  })();
  try {
    await closed;
  } finally {
    done = true;
    clearTimeout(deadline);
    await sweep;
  }
}
