import { parseConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/core/logger.js';
import { type RunningServices, startServices } from '../../src/server/index.js';
import { tokenReviewRequestBody } from '../support/apiserver-webhook-client.js';
import { type CertWorkspace, createCertWorkspace, type IssuedCert } from '../support/certs.js';
import { startTestIdp, type TestIdp } from '../support/oidc-provider.js';
import { startTestRedis, type TestRedis } from '../support/redis-server.js';
import { postRaw } from '../verifier/https-post.js';

export const AUDIENCE = 'https://kubernetes.default.svc';
const CLIENT_ID = 'kube-oidc-bridge';

/**
 * The product as an operator runs it, started through the composition root: a verifier (mutual TLS,
 * `/metrics` on its ops listener) and an issuer (`/metrics` on its own listener) as two processes'
 * worth of services sharing one real Redis, the issuer signing in at a real OpenID Provider.
 */
export interface RunningProduct {
  verifier: RunningServices;
  issuer: RunningServices;
  /** Where Prometheus scrapes each role: `host:port`, path `/metrics`. */
  targets: { verifier: string; issuer: string };
  /** Files the verifier loaded, for comparing the expiry gauges with them. */
  verifierTLS: { serving: string; clientCA: string };
  /** Sends the traffic that makes counters grow: reviews, a failed login, refresh grants. */
  exercise(): Promise<void>;
  close(): Promise<void>;
}

const silent = () => createLogger({ level: 'silent' });

function hostOf(url: string | undefined): string {
  if (!url) throw new Error('the role did not report its URL');
  return new URL(url).host;
}

export async function startRunningProduct(): Promise<RunningProduct> {
  const certs: CertWorkspace = createCertWorkspace();
  const opened: { close(): Promise<void> | void }[] = [{ close: () => certs.dispose() }];
  const closeAll = async () => {
    for (const item of opened.reverse()) await item.close();
  };
  try {
    const redis: TestRedis = await startTestRedis();
    opened.push(redis);
    const ca = certs.createCA('ops');
    const serving = ca.issue({ commonName: 'verifier', ipAddresses: ['127.0.0.1'] });
    const apiserver: IssuedCert = ca.issue({ commonName: 'kube-apiserver', client: true });
    const store = { redis: { url: redis.url } };

    const verifier = await startServices(
      parseConfig(
        {
          store,
          verifier: {
            listen: '127.0.0.1:0',
            tls: { cert: serving.certFile, key: serving.keyFile, clientCA: ca.certFile },
            audiences: [AUDIENCE],
          },
          ops: { listen: '127.0.0.1:0' },
        },
        { env: {}, baseDir: certs.dir },
      ),
      { env: {}, logger: silent() },
    );
    opened.push(verifier);

    const idp: TestIdp = await startTestIdp({ clients: [{ clientId: 'bridge', redirectUris: [] }] });
    opened.push(idp);
    const issuer = await startServices(
      parseConfig(
        {
          store,
          issuer: {
            listen: '127.0.0.1:0',
            publicURL: 'http://127.0.0.1:1',
            cookieSecret: 'c'.repeat(32),
            encryptionKey: 'e'.repeat(32),
            cli: { clientID: CLIENT_ID },
            clusters: [{ name: 'ops', audience: AUDIENCE }],
            upstreams: [
              {
                name: 'corporate',
                issuer: idp.issuer,
                clientID: 'bridge',
                clientSecret: 'bridge-secret',
                allowInsecureRequests: true,
              },
            ],
          },
          mapping: { claimMappings: { username: { claim: 'email', prefix: '' } } },
        },
        { env: {}, baseDir: certs.dir },
      ),
      { env: {}, logger: silent() },
    );
    opened.push(issuer);

    async function exercise(): Promise<void> {
      const session = await issuer.tokens.createSession({
        identity: { kind: 'static', user: { username: 'dana', groups: ['ops'], extra: {} } },
        username: 'dana',
        source: 'admin',
      });
      const access = await issuer.tokens.issueAccessToken(session, [AUDIENCE]);
      const reviewURL = `${verifier.verifierURL}/authenticate`;
      const tls = { ca: ca.cert, client: apiserver };
      for (const token of [access.token, 'kob_not-a-real-token']) {
        const answer = await postRaw(reviewURL, tokenReviewRequestBody('v1', 35, token, [AUDIENCE]), tls);
        if (answer.status !== 200) throw new Error(`review answered ${answer.status}: ${answer.body}`);
      }
      // A callback without login state: a failed login, counted by reason.
      const callback = await postRaw(`${issuer.issuerURL}/callback`, '', { method: 'GET' });
      if (callback.status < 400) throw new Error(`a callback without state answered ${callback.status}`);
      // The same refresh token twice at once: rotation, then a reuse within the grace window.
      const refresh = await issuer.tokens.issueRefreshToken(session, CLIENT_ID, [AUDIENCE]);
      for (let i = 0; i < 2; i += 1) {
        await postRaw(
          `${issuer.issuerURL}/oauth2/token`,
          new URLSearchParams({
            grant_type: 'refresh_token',
            refresh_token: refresh.token,
            client_id: CLIENT_ID,
          }).toString(),
          { headers: { 'content-type': 'application/x-www-form-urlencoded' } },
        );
      }
    }

    return {
      verifier,
      issuer,
      targets: { verifier: hostOf(verifier.opsURL), issuer: hostOf(issuer.issuerURL) },
      verifierTLS: { serving: serving.certFile, clientCA: ca.certFile },
      exercise,
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
