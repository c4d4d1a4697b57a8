import type { IssuerConfig } from '../../config/index.js';

/**
 * Which cluster a token is for. A request names it with `audience`, or with an RFC 8707 `resource`
 * indicator holding the same value; it must be one of `issuer.clusters[].audience`. Without either,
 * an issuer with a single cluster uses that one.
 */
export type AudienceChoice = { ok: true; audience: string } | { ok: false; description: string };

export function chooseAudience(
  config: IssuerConfig,
  params: URLSearchParams,
  fallback?: string,
): AudienceChoice {
  const asked = [...params.getAll('audience'), ...params.getAll('resource')];
  const unique = [...new Set(asked)];
  if (unique.length > 1) return { ok: false, description: 'ask for one audience per request' };
  const known = config.clusters.map((c) => c.audience);
  const wanted = unique[0] ?? fallback ?? (known.length === 1 ? known[0] : undefined);
  if (wanted === undefined) {
    return { ok: false, description: `name the cluster with audience= (one of: ${known.join(', ')})` };
  }
  if (!known.includes(wanted)) return { ok: false, description: 'unknown audience' };
  return { ok: true, audience: wanted };
}
