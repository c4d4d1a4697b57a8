import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { startServer } from '../http/index.js';
import { createIssuer } from './create-issuer.js';
import { createIssuerApp } from './issuer-app.js';
import type { IssuerContext, IssuerDeps } from './issuer-context.js';

export interface RunningIssuer {
  /** Where the listener is reachable (the real port when `listen` asked for 0). */
  url: string;
  /** What the issuer's use cases were built with. */
  context: IssuerContext;
  /** Stops accepting, drains in-flight requests. The store is the caller's to close. */
  close(): Promise<void>;
}

/**
 * Starts the issuer role on `issuer.listen` (https when `issuer.tls` is set). Validates the issuer's
 * keys and URLs first (ConfigError naming the field); upstream IdPs are discovered at the first login.
 */
export async function startIssuer(deps: IssuerDeps): Promise<RunningIssuer> {
  const built = await createIssuer(deps);
  const issuer = built.context.issuer;
  const callback = createIssuerApp(deps, built).callback();
  const server = issuer.tls
    ? createHttpsServer({ cert: readFileSync(issuer.tls.cert), key: readFileSync(issuer.tls.key) }, callback)
    : createHttpServer(callback);
  const running = await startServer(server, {
    protocol: issuer.tls ? 'https' : 'http',
    listen: issuer.listen,
  });
  deps.logger.info(
    { url: running.url, publicURL: issuer.publicURL, upstreams: issuer.upstreams.map((u) => u.name) },
    'issuer listening',
  );
  return { url: running.url, context: built.context, close: () => running.close() };
}
