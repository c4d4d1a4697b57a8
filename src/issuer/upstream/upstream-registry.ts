import { readFileSync } from 'node:fs';
import {
  allowInsecureRequests,
  type ClientAuth,
  type Configuration,
  type CustomFetch,
  customFetch,
  discovery,
} from 'openid-client';
import type { UpstreamConfig } from '../../config/index.js';
import type { Logger } from '../../core/logger.js';
import {
  createUpstreamJwtVerifier,
  type GroupLookupDeps,
  type UpstreamJwtVerifier,
} from '../../directory/index.js';
import { translateUpstreamError } from './upstream-errors.js';

export interface UpstreamRegistryOptions {
  upstreams: UpstreamConfig[];
  logger: Logger;
  /** Client authentication per upstream name, built once at start (see buildClientAuth). */
  clientAuth: Map<string, ClientAuth>;
  /** Builds the fetch that trusts an upstream's private CA (`caFile`). */
  caFetch?: (caPem: string) => CustomFetch;
  /** Discovery attempts per call before giving up; default 3. */
  discoveryAttempts?: number;
  /** Delay before the first retry, doubled after each; default 250 ms. */
  retryDelayMs?: number;
  /** Seconds openid-client waits for each upstream HTTP request; default 10. */
  timeoutSeconds?: number;
}

/**
 * The configured upstream IdPs and their openid-client Configuration (discovered metadata + client).
 *
 * Discovery is lazy (an IdP that is down at start does not stop the issuer), cached once it worked,
 * shared by concurrent callers, retried a few times per call with backoff, and never cached when it
 * failed: the next login tries again.
 */
export class UpstreamRegistry {
  readonly #byName = new Map<string, UpstreamConfig>();
  readonly #configurations = new Map<string, Promise<Configuration>>();
  readonly #jwtVerifiers = new WeakMap<Configuration, UpstreamJwtVerifier>();
  readonly #options: UpstreamRegistryOptions;

  constructor(options: UpstreamRegistryOptions) {
    this.#options = options;
    for (const upstream of options.upstreams) this.#byName.set(upstream.name, upstream);
  }

  /** Upstreams in configuration order (the order of the buttons on the start page). */
  list(): UpstreamConfig[] {
    return [...this.#byName.values()];
  }

  get(name: string): UpstreamConfig | undefined {
    return this.#byName.get(name);
  }

  /**
   * What the group lookups of one login or refresh at this upstream need: fetch, a verifier of claims
   * JWTs signed with the upstream's keys (cached per discovered configuration), the time source.
   */
  groupLookup(name: string, config: Configuration): GroupLookupDeps {
    let verifyJwt = this.#jwtVerifiers.get(config);
    if (!verifyJwt) {
      const metadata = config.serverMetadata();
      const jwksUri = metadata.jwks_uri;
      verifyJwt = jwksUri
        ? createUpstreamJwtVerifier(metadata.issuer, jwksUri)
        : () => Promise.reject(new Error(`upstream ${name} publishes no jwks_uri`));
      this.#jwtVerifiers.set(config, verifyJwt);
    }
    return {
      fetch: (url, init) => fetch(url, init),
      verifyJwt,
      nowMs: () => Date.now(),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    };
  }

  /** The discovered client configuration of an upstream. Throws ERR_UPSTREAM when discovery fails. */
  configuration(name: string): Promise<Configuration> {
    const cached = this.#configurations.get(name);
    if (cached) return cached;
    const pending = this.#discover(name);
    this.#configurations.set(name, pending);
    pending.catch(() => this.#configurations.delete(name));
    return pending;
  }

  async #discover(name: string): Promise<Configuration> {
    const upstream = this.#byName.get(name);
    const auth = this.#options.clientAuth.get(name);
    if (!upstream || !auth) throw new Error(`unknown upstream ${name}`);
    const attempts = this.#options.discoveryAttempts ?? 3;
    let delay = this.#options.retryDelayMs ?? 250;
    const fetchWithCA = upstream.caFile
      ? this.#options.caFetch?.(readFileSync(upstream.caFile, 'utf8'))
      : undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        const config = await discovery(new URL(upstream.issuer), upstream.clientID, undefined, auth, {
          // Development only (the schema documents it): openid-client refuses http:// otherwise.
          execute: upstream.allowInsecureRequests ? [allowInsecureRequests] : [],
          timeout: this.#options.timeoutSeconds ?? 10,
          ...(fetchWithCA ? { [customFetch]: fetchWithCA } : {}),
        });
        this.#options.logger.info({ upstream: name, issuer: upstream.issuer }, 'upstream discovered');
        return config;
      } catch (err) {
        const error = translateUpstreamError(err, name, 'discovery');
        if (attempt >= attempts) throw error;
        this.#options.logger.warn(
          { upstream: name, attempt, err: error },
          'upstream discovery failed, retrying',
        );
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay *= 2;
      }
    }
  }
}
