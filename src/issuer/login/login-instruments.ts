import { audit, type Logger } from '../../core/logger.js';
import type { Metrics } from '../../http/index.js';
import type { DeviceDecision, UserCodeLookup } from '../oauth/device-confirmation.js';
import type { SignOutOutcome } from '../session/web-session.js';
import type { CallbackOutcome } from './callback.js';
import type { FinishOutcome } from './finish.js';

type InstrumentDeps = { metrics: Metrics; logger: Logger };

/**
 * Metrics and audit of the browser sign-in, recorded from the use cases' outcomes in this one place:
 * the use cases decide, this records, the routes render. Never sees a credential. A rate-limited step
 * is counted by the rate limiter (`kob_rate_limited_total`); only on the device page, where it means
 * someone may be guessing user codes, is it audited too.
 */

/** `kob_logins_total{upstream,result}` and the `login` audit line of a callback. */
export function recordCallbackOutcome(deps: InstrumentDeps, outcome: CallbackOutcome): void {
  const { logger, metrics } = deps;
  if (outcome.ok) {
    const { login, purpose } = outcome;
    audit(logger, 'login', {
      result: 'success',
      upstream: login.upstream.name,
      subject: login.subject,
      username: login.user.username,
      purpose: purpose.kind,
    });
    metrics.logins.inc({ upstream: login.upstream.name, result: 'success' });
    return;
  }
  if (outcome.problem === 'rate-limited') return;
  const { result, upstream, reason, reference } = outcome;
  if (outcome.cause !== undefined) {
    logger.warn({ err: outcome.cause, upstream, reference }, 'upstream login failed');
  }
  audit(logger, 'login', { result, upstream, reason, reference });
  metrics.logins.inc({ upstream, result: result === 'expired' ? 'error' : result });
}

/** The `mint` lines of a web sign-in (`kob_tokens_minted_total{source="web"}`), a device approval. */
export function recordFinishOutcome(deps: InstrumentDeps, outcome: FinishOutcome): void {
  const { logger, metrics } = deps;
  switch (outcome.kind) {
    case 'web':
      for (const minted of outcome.minted) {
        metrics.mints.inc({ source: 'web' });
        audit(logger, 'mint', {
          source: 'web',
          sessionId: outcome.cookie.sessionId,
          username: outcome.username,
          upstream: outcome.cookie.upstream,
          audiences: [minted.audience],
          expiresAt: minted.expiresAt,
        });
      }
      return;
    case 'device':
      audit(logger, 'device', { result: 'approved', username: outcome.username });
      return;
    case 'cli': // the CLI's login is audited when it redeems the code (grants/grant-instruments.ts)
    case 'problem':
      return;
  }
}

/** The `device` audit lines of the /device page: a denial, a user-code lookup refused by its limit. */
export function recordDeviceStep(deps: InstrumentDeps, outcome: UserCodeLookup | DeviceDecision): void {
  if (!outcome.ok) {
    if (outcome.problem === 'rate-limited') {
      audit(deps.logger, 'device', { result: 'rate_limited', ip: outcome.clientAddress });
    }
    return;
  }
  if ('decision' in outcome && outcome.decision === 'deny')
    audit(deps.logger, 'device', { result: 'denied' });
}

/** The `revoke` audit line of a sign-out (`kob_revocations_total{scope="session"}` when it revoked). */
export function recordSignOut(deps: InstrumentDeps, outcome: SignOutOutcome): void {
  if (outcome.sessionId === undefined) return;
  if (outcome.revoked) deps.metrics.revocations.inc({ scope: 'session' });
  audit(deps.logger, 'revoke', {
    scope: 'session',
    sessionId: outcome.sessionId,
    source: 'web',
    revoked: outcome.revoked,
  });
}
