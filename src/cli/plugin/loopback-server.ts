import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The RFC 8252 §7.3 loopback redirect receiver: an HTTP server on 127.0.0.1 (random port unless
 * `--listen-address` says otherwise) that waits for the issuer to send the browser back with the
 * authorization code. Only a request on the callback path carrying the expected `state` ends the wait,
 * so another local program poking the port cannot cut the login short.
 */
export interface LoopbackReceiver {
  /** The redirect_uri to register in the authorization request. */
  redirectUri: string;
  /** Resolves with the full callback URL; rejects on timeout or when the receiver is closed first. */
  waitForCallback(state: string, timeoutMs: number): Promise<URL>;
  /** Stops listening and ends a pending wait (its timer must not keep the plugin process alive). */
  close(): Promise<void>;
}

const CALLBACK_PATH = '/callback';

function page(title: string, text: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title><meta name="viewport" content="width=device-width, initial-scale=1"></head><body style="font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem"><h1>${title}</h1><p>${text}</p></body></html>`;
}

function respond(res: ServerResponse, status: number, title: string, text: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
    'referrer-policy': 'no-referrer',
  });
  res.end(page(title, text));
}

/** Parses `HOST:PORT` / `[V6]:PORT` for --listen-address. */
function parseListen(address: string): { host: string; port: number } {
  const match = /^(\[[0-9a-fA-F:]+\]|[^:\s]+):(\d{1,5})$/.exec(address);
  if (!match) throw new Error(`--listen-address must be HOST:PORT, e.g. 127.0.0.1:8000 (got ${address})`);
  return { host: (match[1] as string).replace(/^\[|\]$/g, ''), port: Number(match[2]) };
}

/** Starts the receiver. */
export async function startLoopbackReceiver(listenAddress = '127.0.0.1:0'): Promise<LoopbackReceiver> {
  const { host, port } = parseListen(listenAddress);
  let expectedState: string | undefined;
  let deliver: ((url: URL) => void) | undefined;
  let abandon: (() => void) | undefined;

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://loopback');
    if (req.method !== 'GET' || url.pathname !== CALLBACK_PATH) {
      respond(res, 404, 'Not found', 'This port only receives the kube-oidc-bridge login.');
      return;
    }
    if (!expectedState || url.searchParams.get('state') !== expectedState || !deliver) {
      respond(res, 400, 'Unexpected request', 'This does not belong to the login in progress.');
      return;
    }
    const error = url.searchParams.get('error');
    if (error) {
      respond(res, 200, 'Login failed', 'The issuer refused the login. See the terminal for details.');
    } else {
      respond(res, 200, 'Logged in', 'You are logged in. You can close this tab and return to the terminal.');
    }
    deliver(url);
    deliver = undefined;
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  const hostPart = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;

  return {
    redirectUri: `http://${hostPart}:${bound.port}${CALLBACK_PATH}`,
    waitForCallback(state, timeoutMs) {
      expectedState = state;
      return new Promise<URL>((resolve, reject) => {
        const timer = setTimeout(() => {
          deliver = undefined;
          abandon = undefined;
          reject(new Error(`no login completed within ${Math.round(timeoutMs / 1000)}s`));
        }, timeoutMs);
        deliver = (url) => {
          clearTimeout(timer);
          abandon = undefined;
          resolve(new URL(`${url.pathname}${url.search}`, `http://${hostPart}:${bound.port}`));
        };
        abandon = () => {
          clearTimeout(timer);
          deliver = undefined;
          reject(new Error('the login receiver was closed before a login completed'));
        };
      });
    },
    close() {
      abandon?.();
      abandon = undefined;
      return new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}
