import { duration, filePath, listenAddress } from './schema-common.js';
import { z } from './zod.js';

/**
 * `proxy`: an authenticating reverse proxy in front of an apiserver whose flags nobody can set (EKS,
 * GKE, AKS). It checks `kob_` tokens itself, exactly as the verifier does, and forwards with its own
 * credentials plus impersonation headers. docs/proxy.md describes a deployment.
 */
export const proxySchema = z.strictObject({
  listen: listenAddress.default('127.0.0.1:8444'),
  /** Serving certificate users' kubeconfigs trust (its CA goes into them). HTTPS only. */
  tls: z.strictObject({ cert: filePath, key: filePath }),
  /** This cluster's audiences: a token is accepted only if it was minted for one of them. */
  audiences: z.array(z.string().min(1)).min(1),
  upstream: z
    .strictObject({
      /**
       * Kubeconfig whose context gives the apiserver URL, its CA and the proxy's own credentials
       * (client certificate or bearer token). Omitted: the in-cluster service account (token + CA).
       */
      kubeconfig: filePath.optional(),
      /** Context of that kubeconfig to use (default: its current-context). */
      context: z.string().min(1).optional(),
      /** How long connecting to the apiserver (TCP + TLS) may take before the request fails with 502. */
      connectTimeout: duration.default(10),
    })
    .default({ connectTimeout: 10 }),
  /**
   * Forward bearer tokens that are not `kob_` tokens (e.g. in-cluster tools' service-account tokens)
   * untouched, without impersonation and without the proxy's own credentials, for the apiserver to judge.
   */
  tokenPassthrough: z.boolean().default(false),
});
