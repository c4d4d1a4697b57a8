import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A pass-through HTTP proxy in front of the issuer that records every request (`METHOD path`), so a
 * test can assert that a kubectl call did or did not reach the issuer. The issuer's publicURL is the
 * proxy's URL, so every client (CLI, browser, upstream redirect) goes through it.
 */
export interface CountingProxy {
  url: string;
  port: number;
  /** Requests seen, oldest first. */
  requests: string[];
  /** Points the proxy at the issuer once it listens. */
  setTarget(port: number): void;
  close(): Promise<void>;
}

export async function startCountingProxy(): Promise<CountingProxy> {
  const requests: string[] = [];
  let targetPort = 0;
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const upstream = request(
      { host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    setTarget(p) {
      targetPort = p;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
