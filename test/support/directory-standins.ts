import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Loopback stand-ins for the directory APIs the issuer reads groups from, written from their public
 * API references: Microsoft Graph `transitiveMemberOf` (OData paging with `@odata.nextLink` and
 * `$top`, `Retry-After` throttling, `InvalidAuthenticationToken` for bad or expired tokens) and the
 * Okta Users API (`Link: rel="next"` paging with `after` cursors, `X-Rate-Limit-*` headers, `SSWS`
 * API tokens, `E0000011` for a bad token). Tests change their data between calls.
 */
export interface DirectoryStandIn {
  url: string;
  /** `METHOD path?query`, the authorization and ConsistencyLevel headers of every request, in order. */
  requests: Array<{ path: string; authorization: string | undefined; consistencyLevel?: string | undefined }>;
  /** The next `count` requests are throttled with these headers (429). */
  throttleNext(count: number, headers: Record<string, string>): void;
  /** Every request fails with this status until cleared (undefined). */
  failWith(status: number | undefined): void;
  close(): Promise<void>;
}

interface StandInState {
  requests: DirectoryStandIn['requests'];
  throttle: { count: number; headers: Record<string, string> };
  failure: number | undefined;
}

async function serve(
  handle: (req: IncomingMessage, res: ServerResponse, url: URL, base: string) => void,
): Promise<{ server: Server; base: string; state: StandInState }> {
  const state: StandInState = { requests: [], throttle: { count: 0, headers: {} }, failure: undefined };
  let base = '';
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', base);
    state.requests.push({
      path: `${req.method} ${url.pathname}${url.search}`,
      authorization: req.headers.authorization,
      consistencyLevel: req.headers.consistencylevel as string | undefined,
    });
    if (state.failure !== undefined) {
      res
        .writeHead(state.failure, { 'content-type': 'application/json' })
        .end('{"error":"failure requested by the test"}');
      return;
    }
    if (state.throttle.count > 0) {
      state.throttle.count--;
      res.writeHead(429, { 'content-type': 'application/json', ...state.throttle.headers });
      res.end('{"error":{"code":"TooManyRequests","message":"Too many requests"}}');
      return;
    }
    handle(req, res, url, base);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, base, state };
}

function standIn(server: Server, url: string, state: StandInState): DirectoryStandIn {
  return {
    url,
    requests: state.requests,
    throttleNext: (count, headers) => {
      state.throttle = { count, headers };
    },
    failWith: (status) => {
      state.failure = status;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

export interface GraphGroup {
  id: string;
  displayName: string;
  /** The directory object's type; `transitiveMemberOf` lists roles and administrative units too. */
  type?: 'group' | 'directoryRole' | 'administrativeUnit';
}

export interface GraphStandIn extends DirectoryStandIn {
  /** Graph's base URL, e.g. http://127.0.0.1:PORT/v1.0 (the upstream's `microsoftGraph.endpoint`). */
  endpoint: string;
  /** Groups per user id; change them to model a directory edit. */
  groups: Map<string, GraphGroup[]>;
}

/**
 * Microsoft Graph stand-in. `userFor(token)` says whose access token it is (undefined: expired or
 * unknown → 401 InvalidAuthenticationToken), as Graph validates the bearer token it is sent.
 */
export async function startGraphStandIn(
  userFor: (token: string) => Promise<string | undefined>,
): Promise<GraphStandIn> {
  const groups = new Map<string, GraphGroup[]>();
  const { server, base, state } = await serve((req, res, url) => {
    void (async () => {
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const user = token ? await userFor(token) : undefined;
      if (!user) {
        json(res, 401, {
          error: {
            code: 'InvalidAuthenticationToken',
            message: 'Access token has expired or is not yet valid.',
          },
        });
        return;
      }
      if (req.method !== 'GET' || url.pathname !== '/v1.0/me/transitiveMemberOf') {
        json(res, 404, { error: { code: 'Request_ResourceNotFound', message: 'Resource not found.' } });
        return;
      }
      // Graph pages directory objects 100 at a time by default, at most 999 with $top.
      const top = Math.min(Number(url.searchParams.get('$top') ?? '100') || 100, 999);
      const skip = Number(url.searchParams.get('$skiptoken') ?? '0');
      const all = groups.get(user) ?? [];
      const select = (url.searchParams.get('$select') ?? 'id,displayName').split(',');
      const value = all.slice(skip, skip + top).map((g) => ({
        '@odata.type': `#microsoft.graph.${g.type ?? 'group'}`,
        ...Object.fromEntries(select.map((field) => [field, g[field as 'id' | 'displayName']])),
      }));
      const next = new URL(url.href);
      next.searchParams.set('$skiptoken', String(skip + top));
      json(res, 200, {
        '@odata.context': `${base}/v1.0/$metadata#directoryObjects`,
        value,
        ...(skip + top < all.length ? { '@odata.nextLink': next.href } : {}),
      });
    })();
  });
  return { ...standIn(server, base, state), endpoint: `${base}/v1.0`, groups };
}

export interface OktaGroup {
  id: string;
  name: string;
}

export interface OktaStandIn extends DirectoryStandIn {
  /** The org URL (the upstream's `okta.orgURL`). */
  orgURL: string;
  apiToken: string;
  /** Groups per Okta user id. */
  groups: Map<string, OktaGroup[]>;
}

/** Okta Users API stand-in: `GET /api/v1/users/{id}/groups` with an `SSWS` API token. */
export async function startOktaStandIn(apiToken = 'okta-api-token-for-tests'): Promise<OktaStandIn> {
  const groups = new Map<string, OktaGroup[]>();
  const { server, base, state } = await serve((req, res, url) => {
    if (req.headers.authorization !== `SSWS ${apiToken}`) {
      json(res, 401, { errorCode: 'E0000011', errorSummary: 'Invalid token provided', errorCauses: [] });
      return;
    }
    const match = /^\/api\/v1\/users\/([^/]+)\/groups$/.exec(url.pathname);
    const all = match ? groups.get(decodeURIComponent(match[1] ?? '')) : undefined;
    if (req.method !== 'GET' || !all) {
      json(res, 404, {
        errorCode: 'E0000007',
        errorSummary: 'Not found: Resource not found',
        errorCauses: [],
      });
      return;
    }
    const limit = Math.min(Number(url.searchParams.get('limit') ?? '200') || 200, 200);
    const after = url.searchParams.get('after');
    const start = after ? all.findIndex((g) => g.id === after) + 1 : 0;
    const page = all.slice(start, start + limit);
    const links = [`<${url.href}>; rel="self"`];
    const last = page.at(-1);
    if (start + limit < all.length && last) {
      const next = new URL(url.href);
      next.searchParams.set('after', last.id);
      links.push(`<${next.href}>; rel="next"`);
    }
    json(
      res,
      200,
      page.map((g) => ({ id: g.id, type: 'OKTA_GROUP', profile: { name: g.name, description: null } })),
      {
        link: links.join(', '),
        'x-rate-limit-limit': '600',
        'x-rate-limit-remaining': '599',
        'x-rate-limit-reset': String(Math.floor(Date.now() / 1000) + 60),
      },
    );
  });
  return { ...standIn(server, base, state), orgURL: base, apiToken, groups };
}

export interface ClaimsSourceStandIn extends DirectoryStandIn {
  /** The distributed claims endpoint (`_claim_sources.*.endpoint`). */
  endpoint: string;
  /** What the endpoint answers for each access token it accepts: JSON claims, or a JWT string. */
  claimsFor: Map<string, Record<string, unknown> | string>;
}

/**
 * A distributed claims endpoint (OIDC Core §5.6.2) answering, for known access tokens, JSON claims
 * or a signed JWT (`application/jwt`).
 */
export async function startClaimsSourceStandIn(): Promise<ClaimsSourceStandIn> {
  const claimsFor = new Map<string, Record<string, unknown> | string>();
  const { server, base, state } = await serve((req, res) => {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const claims = token ? claimsFor.get(token) : undefined;
    if (!claims) {
      res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end();
      return;
    }
    if (typeof claims === 'string') res.writeHead(200, { 'content-type': 'application/jwt' }).end(claims);
    else json(res, 200, claims);
  });
  return { ...standIn(server, base, state), endpoint: `${base}/claims`, claimsFor };
}

/** `count` groups named `prefix-00001` … with ids `id-00001` … (Graph) */
export function manyGraphGroups(count: number, prefix = 'dir-group'): GraphGroup[] {
  return Array.from({ length: count }, (_, i) => {
    const n = String(i + 1).padStart(5, '0');
    return { id: `00000000-0000-0000-0000-0000000${n}`, displayName: `${prefix}-${n}` };
  });
}
