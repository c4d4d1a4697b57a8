import type { IncomingMessage } from 'node:http';
import type { Agent, RequestOptions } from 'node:https';
import { StoreUnavailableError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { redactCredentials } from '../core/redact.js';
import { pathOf } from '../http/index.js';
import { authenticateRequest, type ProxyAuthenticator } from './authenticate.js';
import { impersonationHeaders } from './impersonation-headers.js';
import type { ProxyAuditFields, ProxyResult } from './proxy-instruments.js';
import { scanRequestHeaders } from './request-headers.js';
import type { UpstreamTarget } from './upstream-target.js';

export interface ForwardDeps {
  authenticator: ProxyAuthenticator;
  upstream: UpstreamTarget;
  /** Carries the proxy's client certificate (when it has one): for impersonated requests only. */
  ownAgent: Agent;
  /** Never carries the proxy's client certificate: a passed-through token must speak for itself. */
  passthroughAgent: Agent;
  logger: Logger;
}

/** What to do with a request: forward it with these options, or refuse it with this status. */
export type ForwardPlan =
  | {
      ok: true;
      result: 'forwarded' | 'passthrough';
      options: RequestOptions;
      username?: string;
      sessionId?: string;
    }
  | {
      ok: false;
      result: ProxyResult;
      status: number;
      /** For the client, in the Status body. */
      message: string;
      /** For the audit line. */
      reason: string;
      username?: string;
      sessionId?: string;
    };

/** Path (prefixed by the upstream URL's own path, if any) of the upstream request. */
function upstreamPath(upstream: UpstreamTarget, url: string): string {
  const prefix = upstream.url.pathname.replace(/\/+$/, '');
  return prefix + url;
}

/**
 * Decides one request: header scan (impersonation and smuggling refused), then the verifier's decision
 * on the bearer token, then the upstream request — the proxy's credential plus the person's
 * impersonation headers, or, for a passed-through token, that token alone.
 */
export async function planForward(
  req: IncomingMessage,
  upgrade: boolean,
  deps: ForwardDeps,
): Promise<ForwardPlan> {
  const url = req.url ?? '';
  if (!url.startsWith('/')) {
    return {
      ok: false,
      result: 'bad_request',
      status: 400,
      message: 'bad request path',
      reason: 'not origin-form',
    };
  }
  const scan = scanRequestHeaders(req.rawHeaders, upgrade);
  if (!scan.ok) {
    const status = scan.result === 'impersonation' ? 403 : 400;
    return { ok: false, result: scan.result, status, message: scan.reason, reason: scan.reason };
  }

  let auth: Awaited<ReturnType<typeof authenticateRequest>>;
  try {
    auth = await authenticateRequest(scan.authorization, deps.authenticator);
  } catch (err) {
    if (!(err instanceof StoreUnavailableError)) deps.logger.error({ err }, 'proxy authentication failed');
    const reason = redactCredentials(String((err as Error).message));
    return {
      ok: false,
      result: 'unavailable',
      status: 503,
      message: 'token store unavailable, retry',
      reason,
    };
  }
  if (auth.kind === 'denied') {
    return { ...auth, ok: false, status: 401, message: 'Unauthorized' };
  }

  const headers = scan.forward;
  headers['x-forwarded-for'] = req.socket.remoteAddress ?? '';
  const { upstream } = deps;
  const base = {
    protocol: 'https:',
    hostname: upstream.url.hostname.replace(/^\[|\]$/g, ''),
    port: upstream.url.port || 443,
    method: req.method,
    path: upstreamPath(upstream, url),
    headers,
  };
  if (auth.kind === 'passthrough') {
    headers.authorization = scan.authorization as string;
    return { ok: true, result: 'passthrough', options: { ...base, agent: deps.passthroughAgent } };
  }

  const impersonation = impersonationHeaders(auth.user);
  if (!impersonation.ok) {
    return {
      ok: false,
      result: 'identity',
      status: 403,
      message: 'the mapped identity cannot be sent as impersonation headers',
      reason: impersonation.reason,
      username: auth.user.username,
      sessionId: auth.sessionId,
    };
  }
  Object.assign(headers, impersonation.headers);
  const token = upstream.bearerToken();
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  return {
    ok: true,
    result: 'forwarded',
    options: { ...base, agent: deps.ownAgent },
    username: auth.user.username,
    sessionId: auth.sessionId,
  };
}

/** A Kubernetes-style verb for the audit line, from the method (and `watch` in the query). */
export function verbOf(method: string, url: string, upgrade: boolean): string {
  if (upgrade) return 'connect';
  switch (method) {
    case 'GET':
    case 'HEAD':
      return /[?&]watch=(true|1)(&|$)/.test(url) ? 'watch' : 'get';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    default:
      return method.toLowerCase();
  }
}

/** What the audit line says about a request before anything is decided: method, verb, path, client. */
export function requestAuditFields(
  req: IncomingMessage,
  upgrade: boolean,
): Omit<ProxyAuditFields, 'result' | 'status'> {
  const url = req.url ?? '';
  const method = req.method ?? '';
  return {
    method,
    verb: verbOf(method, url, upgrade),
    path: pathOf(url),
    client: req.socket.remoteAddress,
  };
}

/** The audit fields a plan adds: its result, the person, and the reason of a refusal. */
export function planAuditFields(
  fields: Omit<ProxyAuditFields, 'result' | 'status'>,
  plan: ForwardPlan,
): Omit<ProxyAuditFields, 'status'> {
  const who = { ...fields, result: plan.result, username: plan.username, sessionId: plan.sessionId };
  return plan.ok ? who : { ...who, reason: plan.reason };
}
