import { audit, type Logger } from '../../core/logger.js';
import type { Metrics } from '../../http/index.js';
import type { GrantOutcome } from './grant-outcome.js';

/**
 * Metrics and audit of the token endpoint, recorded from the grant's outcome in this one place: the
 * use cases decide, this records, the endpoint renders. Never sees a credential.
 */
export function recordGrantOutcome(deps: { metrics: Metrics; logger: Logger }, outcome: GrantOutcome): void {
  const { metrics, logger } = deps;
  if (outcome.grant === 'refresh_token') metrics.refreshes.inc({ result: outcome.result });
  if (!outcome.ok) {
    const ended = outcome.ended;
    if (ended?.reason === 'upstream_refused') {
      audit(logger, 'refresh', {
        result: outcome.result,
        sessionId: ended.sessionId,
        ...(ended.username !== undefined && { username: ended.username }),
        ...(ended.detail !== undefined && { reason: ended.detail }),
      });
    }
    if (ended) {
      metrics.revocations.inc({ scope: 'session' });
      audit(logger, 'revoke', {
        reason: ended.reason,
        sessionId: ended.sessionId,
        ...(ended.username !== undefined && { username: ended.username }),
        ...(ended.detail !== undefined && { detail: ended.detail }),
      });
    }
    if (outcome.result === 'pkce_mismatch') {
      audit(logger, 'login', { source: 'cli', result: 'pkce_mismatch' });
    }
    return;
  }
  const { minted } = outcome;
  if (outcome.grant === 'refresh_token') {
    audit(logger, 'refresh', {
      result: outcome.result,
      sessionId: minted.sessionId,
      username: minted.username,
      audience: minted.audience,
    });
  } else {
    audit(logger, 'login', {
      source: 'cli',
      ...(outcome.grant === 'device_code' && { flow: 'device' }),
      result: 'success',
      sessionId: minted.sessionId,
      username: minted.username,
      ...(minted.upstream !== undefined && { upstream: minted.upstream }),
    });
  }
  metrics.mints.inc({ source: 'cli' });
  audit(logger, 'mint', {
    source: 'cli',
    grant: outcome.grant,
    sessionId: minted.sessionId,
    username: minted.username,
    audience: minted.audience,
    expiresAt: minted.expiresAt,
  });
}
