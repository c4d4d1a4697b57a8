import { randomId } from '../../core/token-format.js';
import type { IssuerContext } from '../issuer-context.js';
import { AuthorizationCodes } from '../models/authorization-code.js';
import { DeviceGrants } from '../models/device-grant.js';
import { toGrantedLogin } from '../models/granted-login.js';
import { PendingAuthorizations } from '../models/pending-authorization.js';
import { issuerIdentifier } from '../oauth/issuer-identifier.js';
import { redirectWith } from '../oauth/redirect-uri.js';
import type { WebSessionCookie } from '../session/web-session-cookie.js';
import type { CompletedLogin, LoginPurpose } from './types.js';

export type FinishDeps = Pick<IssuerContext, 'issuer' | 'store' | 'tokens'>;

/** One access token a web sign-in minted, for the audit line (never the token). */
export interface MintedWebToken {
  audience: string;
  expiresAt: number;
}

export type FinishOutcome =
  | {
      kind: 'web';
      /** What the sealed session cookie keeps (the result page shows its tokens). */
      cookie: WebSessionCookie;
      username: string;
      minted: MintedWebToken[];
    }
  | { kind: 'cli' /** The CLI's loopback receiver, with `code`, `state` and `iss`. */; redirect: string }
  | { kind: 'device'; username: string }
  | { kind: 'problem'; problem: 'authorization-expired' | 'device-code-expired' };

/**
 * Finishes a login the upstream vouched for and the mapping rules accepted, for the purpose it was
 * started with: a browser session (`web`), an authorization code for the CLI (`cli-authorize`), or an
 * approved device code (`device`). Never called for a refused user. This is where a step that needs
 * the completed login (e.g. looking up more upstream claims) belongs: before the switch.
 */
export function finishLogin(
  deps: FinishDeps,
  login: CompletedLogin,
  purpose: LoginPurpose,
): Promise<FinishOutcome> {
  switch (purpose.kind) {
    case 'web':
      return finishWebLogin(deps, login);
    case 'cli-authorize':
      return finishCliAuthorization(deps, login, purpose.requestId);
    case 'device':
      return finishDeviceApproval(deps, login, purpose.deviceId);
  }
}

/**
 * A browser sign-in: the session keeps the upstream's allow-listed claims (mapped again at every
 * review, so rule changes apply to live tokens), and gets one access token per configured cluster,
 * each for that cluster's audience only: a token leaked through one cluster must not work on the others.
 */
async function finishWebLogin(deps: FinishDeps, login: CompletedLogin): Promise<FinishOutcome> {
  const session = await deps.tokens.createSession({
    identity: { kind: 'claims', upstream: login.upstream.name, claims: login.claims },
    username: login.user.username,
    source: 'web',
    upstreamIssuer: login.upstreamIssuer,
    subject: login.subject,
    ...(login.upstreamRefreshToken && { upstreamRefreshToken: login.upstreamRefreshToken }),
    description: `web sign-in with ${login.upstream.name}`,
  });
  const tokens: WebSessionCookie['tokens'] = [];
  const minted: MintedWebToken[] = [];
  for (const cluster of deps.issuer.clusters) {
    const issued = await deps.tokens.issueAccessToken(session, [cluster.audience]);
    tokens.push({ cluster: cluster.name, token: issued.token });
    minted.push({ audience: cluster.audience, expiresAt: issued.expiresAt });
  }
  const expiresAt = Math.min(...minted.map((m) => m.expiresAt));
  return {
    kind: 'web',
    cookie: { sessionId: session.id, upstream: login.upstream.name, tokens, expiresAt },
    username: session.username,
    minted,
  };
}

/**
 * A `cli-authorize` login: takes the parked request (single use), issues the one-time code bound to
 * it, and sends the browser back to the CLI's loopback receiver with `code`, `state` and `iss` (RFC 9207).
 */
async function finishCliAuthorization(
  deps: FinishDeps,
  login: CompletedLogin,
  requestId: string,
): Promise<FinishOutcome> {
  const pending = await new PendingAuthorizations(deps.store).take(requestId);
  if (!pending) return { kind: 'problem', problem: 'authorization-expired' };
  const code = randomId(32);
  await new AuthorizationCodes(deps.store).issue(
    code,
    {
      clientId: pending.clientId,
      redirectUri: pending.redirectUri,
      codeChallenge: pending.codeChallenge,
      audience: pending.audience,
      login: toGrantedLogin(login),
    },
    deps.issuer.cli.authorizationCodeTTL,
  );
  return {
    kind: 'cli',
    redirect: redirectWith(pending.redirectUri, {
      code,
      state: pending.state,
      iss: issuerIdentifier(deps.issuer),
    }),
  };
}

/**
 * A `device` login: the person approved on /device and signed in upstream. The authorization turns
 * `approved` with the login attached (the CLI's next poll redeems it); its user code is retired at once.
 */
async function finishDeviceApproval(
  deps: FinishDeps,
  login: CompletedLogin,
  deviceId: string,
): Promise<FinishOutcome> {
  const approved = await new DeviceGrants(deps.store).decide(deviceId, { login: toGrantedLogin(login) });
  if (!approved) return { kind: 'problem', problem: 'device-code-expired' };
  return { kind: 'device', username: login.user.username };
}
