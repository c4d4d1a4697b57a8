import { Agent, request } from 'node:http';

function reviewBody(token, audience) {
  return `{"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1","metadata":{},"spec":{"token":"${token}","audiences":["${audience}"]}}`;
}

/**
 * Checked TokenReview traffic for the soak: request i is sent at start + i/rate (open loop), its token
 * taken round-robin from the pools in turn. Every answer is checked against its pool's expectation
 * for the moment the request was sent: `expect(sentAt)` is 'accept', 'deny' or 'either'. Answers are
 * counted under the phase their request was sent in (`phase`, set by the caller).
 *
 * @param {object} o
 * @param {string} o.url the verifier's base URL (plain HTTP)
 * @param {number} o.rate requests per second
 * @param {{kind: string, tokens: string[], audience: string, expect: (sentAt: number) => string}[]} o.pools
 */
export function startReviewTraffic({ url, rate, pools }) {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const stats = { sent: 0, done: 0, byPhase: {}, falseAccepts: {}, falseDenialsAfter: 0 };
  const traffic = {
    phase: 'before',
    stats,
    /** Answer times (ms) of the false accepts, for timing them against a fault. */
    falseAcceptTimes: [],
    recovery: { from: undefined, at: undefined, tokens: undefined },
    /**
     * Starts the recovery clock: the first accepted expected-valid token (one of `tokens` if given)
     * answered after `at` ends it.
     */
    recoverFrom(at, tokens) {
      traffic.recovery = { from: at, at: undefined, tokens };
    },
    /** Answers per second over the run so far. */
    held: (seconds) => stats.done / seconds,
    stop() {
      clearInterval(ticker);
    },
    close() {
      agent.destroy();
    },
  };
  const bump = (phase, key) => {
    stats.byPhase[phase] ??= {};
    stats.byPhase[phase][key] = (stats.byPhase[phase][key] ?? 0) + 1;
  };

  function answered(pool, token, expected, status) {
    const now = Date.now();
    const { recovery } = traffic;
    if (status.authenticated && expected === 'deny') {
      stats.falseAccepts[pool.kind] = (stats.falseAccepts[pool.kind] ?? 0) + 1;
      traffic.falseAcceptTimes.push(now);
    }
    if (expected !== 'accept') return;
    if (
      status.authenticated &&
      recovery.from !== undefined &&
      recovery.at === undefined &&
      now >= recovery.from &&
      (recovery.tokens === undefined || recovery.tokens.has(token))
    )
      recovery.at = now;
    // A denial without `error` is cached by the apiserver: a valid user locked out for the cache TTL.
    if (!status.authenticated && !status.error && traffic.phase === 'after') stats.falseDenialsAfter++;
  }

  function fire(i) {
    const pool = pools[i % pools.length];
    const token = pool.tokens[Math.floor(i / pools.length) % pool.tokens.length];
    const sentAt = Date.now();
    const expected = pool.expect(sentAt);
    const phase = traffic.phase;
    stats.sent++;
    const req = request(`${url}/authenticate`, { method: 'POST', agent, timeout: 5000 }, (res) => {
      let text = '';
      res.on('data', (c) => {
        text += c;
      });
      res.on('end', () => {
        stats.done++;
        if (res.statusCode !== 200) return bump(phase, String(res.statusCode));
        const status = JSON.parse(text).status;
        answered(pool, token, expected, status);
        bump(phase, status.authenticated ? '200 accepted' : status.error ? '200 denied+error' : '200 denied');
      });
    });
    req.on('error', () => bump(phase, 'transport error'));
    req.on('timeout', () => req.destroy());
    req.end(reviewBody(token, pool.audience));
  }

  const started = Date.now();
  let i = 0;
  const ticker = setInterval(() => {
    const due = Math.floor(((Date.now() - started) / 1000) * rate);
    while (i < due) fire(i++);
  }, 5);
  return traffic;
}

/** Sends one TokenReview and resolves with its `status` (or `{ httpStatus }` for a non-200 answer). */
export function reviewOnce(url, token, audience) {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/authenticate`, { method: 'POST', timeout: 5000 }, (res) => {
      let text = '';
      res.on('data', (c) => {
        text += c;
      });
      res.on('end', () =>
        resolve(res.statusCode === 200 ? JSON.parse(text).status : { httpStatus: res.statusCode }),
      );
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('review timed out')));
    req.end(reviewBody(token, audience));
  });
}
