import type { ControlPlane } from '../support/control-plane.js';
import type { KubectlResult } from '../support/k8s-tools.js';
import type { KubeWorld } from './kube-world.js';

/**
 * The timelines cluster admins ask about, measured on a real kube-apiserver: how long a revoked token
 * keeps working (its token cache), and what happens while the verifier or its Redis is down. The tests
 * assert on them with short settings; `npm run bench:kube` prints them with the apiserver's defaults
 * (docs/verifier.md quotes those figures).
 */

/** An authenticated-only discovery path: 200 for any authenticated user, 401 when the token is refused. */
const PROBE_PATH = '/api';

const seconds = (ms: number) => Math.round(ms / 100) / 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface RevocationTimeline {
  /** The apiserver's answer right after `token revoke` (200: served from its cache). */
  statusRightAfterRevoke: number;
  /** Seconds from `token revoke` to the first 401. */
  acceptedAfterRevokeS: number;
  /** Seconds from the request that filled the cache to the first 401: the cache TTL, plus polling. */
  refusedAfterCachedS: number;
}

/**
 * Mints a token, lets the apiserver cache it, revokes it, then polls every `pollMs` until the apiserver
 * answers 401 (or `limitMs` passes, which throws).
 */
export async function measureRevocation(
  world: KubeWorld,
  plane: ControlPlane,
  options: { pollMs?: number; limitMs: number },
): Promise<RevocationTimeline> {
  const token = await world.mint({ email: 'revoked@example.com', email_verified: true, groups: ['dev'] });
  const cachedAt = Date.now();
  const first = await plane.get(PROBE_PATH, { token });
  if (first.status !== 200) throw new Error(`a fresh token was refused: ${first.status} ${first.body}`);
  const revoked = await world.revoke(token);
  if (revoked.code !== 0) throw new Error(`token revoke failed: ${revoked.stderr}`);
  const revokedAt = Date.now();
  const statusRightAfterRevoke = (await plane.get(PROBE_PATH, { token })).status;
  for (;;) {
    const answer = await plane.get(PROBE_PATH, { token });
    if (answer.status === 401) {
      const now = Date.now();
      return {
        statusRightAfterRevoke,
        acceptedAfterRevokeS: seconds(now - revokedAt),
        refusedAfterCachedS: seconds(now - cachedAt),
      };
    }
    if (answer.status !== 200) throw new Error(`unexpected answer ${answer.status}: ${answer.body}`);
    if (Date.now() - revokedAt > options.limitMs) throw new Error('the revoked token is still accepted');
    await sleep(options.pollMs ?? 250);
  }
}

export interface OutageTimeline {
  /** What kubectl printed and returned for a token the apiserver had not cached, during the outage. */
  kubectlDuringOutage: KubectlResult;
  /** Seconds the apiserver took to answer that token during the outage (its retries). */
  answeredAfterS: number;
  /** The apiserver's status for that token during the outage. */
  statusDuringOutage: number;
  /**
   * Another uncached token, asked once that first answer came back: a Redis outage is then older than
   * `verifier.storeOutageRetryWindow`, so its 503s no longer carry Retry-After.
   */
  later: { answeredAfterS: number; status: number; kubectl: KubectlResult; kubectlAfterS: number };
  /** The apiserver's status for a token it had cached just before the outage. */
  cachedTokenStatus: number;
  /** Seconds from the restart of the stopped piece to the first 200 for a new token (no apiserver restart). */
  recoveredAfterS: number;
}

/**
 * Stops the verifier or its Redis, asks with a token the apiserver has not seen (through the apiserver
 * directly, timed, and through kubectl), with one it has cached, then starts the piece again and polls
 * until a new token passes.
 */
export async function measureOutage(
  world: KubeWorld,
  plane: ControlPlane,
  piece: 'verifier' | 'redis',
): Promise<OutageTimeline> {
  const claims = { email: `outage-${piece}@example.com`, email_verified: true, groups: ['dev'] };
  const cached = await world.mint(claims);
  const unseen = await world.mint(claims);
  const unseenByKubectl = await world.mint(claims);
  const afterRestart = await world.mint(claims);
  const unseenLater = await world.mint(claims);
  const unseenLaterByKubectl = await world.mint(claims);
  const warm = await plane.get(PROBE_PATH, { token: cached });
  if (warm.status !== 200) throw new Error(`a fresh token was refused: ${warm.status} ${warm.body}`);

  if (piece === 'verifier') await world.stopVerifier();
  else await world.redis.stop();
  let timeline: Omit<OutageTimeline, 'recoveredAfterS'>;
  try {
    // All at once: during a store outage each unseen token waits for the apiserver's retries.
    const askedAt = Date.now();
    const [answeredAfterS, during, kubectlDuringOutage, cachedAnswer] = await Promise.all([
      plane.get(PROBE_PATH, { token: unseen }).then(() => seconds(Date.now() - askedAt)),
      plane.get(PROBE_PATH, { token: unseen }),
      plane.kubectl(['get', '--raw', PROBE_PATH], { token: unseenByKubectl }),
      plane.get(PROBE_PATH, { token: cached }),
    ]);
    const laterAskedAt = Date.now();
    const [[laterAnswer, laterAfterS], [kubectl, kubectlAfterS]] = await Promise.all([
      plane
        .get(PROBE_PATH, { token: unseenLater })
        .then((answer) => [answer, seconds(Date.now() - laterAskedAt)] as const),
      plane
        .kubectl(['get', '--raw', PROBE_PATH], { token: unseenLaterByKubectl })
        .then((run) => [run, seconds(Date.now() - laterAskedAt)] as const),
    ]);
    timeline = {
      kubectlDuringOutage,
      answeredAfterS,
      statusDuringOutage: during.status,
      cachedTokenStatus: cachedAnswer.status,
      later: {
        answeredAfterS: laterAfterS,
        status: laterAnswer.status,
        kubectl,
        kubectlAfterS,
      },
    };
  } finally {
    if (piece === 'verifier') await world.startVerifier();
    else await world.redis.start();
  }
  const restartedAt = Date.now();
  for (;;) {
    const answer = await plane.get(PROBE_PATH, { token: afterRestart });
    if (answer.status === 200) return { ...timeline, recoveredAfterS: seconds(Date.now() - restartedAt) };
    if (Date.now() - restartedAt > 60_000) throw new Error(`no recovery: ${answer.status} ${answer.body}`);
    await sleep(100);
  }
}
