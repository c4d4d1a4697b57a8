import { isLoopbackHttp } from '../http/loopback-url.js';
import { parseAddressRange } from './address-range.js';
import { upstreamGroupsSchema } from './directory-schema.js';
import { mappingSchema } from './mapping-schema.js';
import { proxySchema } from './proxy-schema.js';
import { duration, filePath, httpUrl, keyMaterial, listenAddress, secretRef } from './schema-common.js';
import { type input, type output, z } from './zod.js';

/**
 * The configuration file, as written by admins. Every key has a visible default here; the loader
 * (load.ts) validates, resolves secrets and relative paths, and names the field of every problem.
 * docs/configuration.md documents each key.
 */

/** `host:port` or `[v6]:port` of a Sentinel or Cluster node. */
const redisNode = z.string().regex(/^(\[[0-9a-fA-F:]+\]|[^:\s[\]]+):\d{1,5}$/, {
  message: 'expected host:port, e.g. redis-0.redis:6379 or [::1]:26379',
});

/** An IP address or CIDR range (`10.0.0.0/8`, `fd00::/8`, `192.0.2.10`). */
const addressRange = z.string().refine((v) => parseAddressRange(v) !== undefined, {
  message: 'expected an IP address or a CIDR range, e.g. 10.0.0.0/8',
});

const redisSentinelSchema = z.strictObject({
  /** The master group name the sentinels monitor (`sentinel monitor NAME …`). */
  name: z.string().min(1),
  /** Sentinels asked for the current primary; one reachable sentinel is enough. */
  nodes: z.array(redisNode).min(1),
  /** The sentinels' own ACL user and password (the data nodes use store.redis.username/password). */
  username: z.string().min(1).optional(),
  password: secretRef.optional(),
});

const redisClusterSchema = z.strictObject({
  /** Seed nodes; the client learns the rest of the cluster from any one of them. */
  nodes: z.array(redisNode).min(1),
});

const redisSchema = z
  .strictObject({
    /** `redis://[user:pass@]host:port/db` or `rediss://…` for TLS. */
    url: z
      .string()
      .regex(/^rediss?:\/\//, { message: 'expected a redis:// or rediss:// URL' })
      .refine((u) => /^rediss?:\/\/[^/]*(\/\d*)?$/.test(u), {
        message: 'the database (the URL path) must be a number, e.g. redis://host:6379/0',
      })
      .optional(),
    /** Redis Sentinel: the primary is looked up through the sentinels, again after every failover. */
    sentinel: redisSentinelSchema.optional(),
    /** Redis Cluster (database 0, hash-tagged keys). */
    cluster: redisClusterSchema.optional(),
    username: z.string().min(1).optional(),
    password: secretRef.optional(),
    /** PEM CA bundle to verify a `rediss://` server against (default: system roots). */
    tlsCA: filePath.optional(),
    /** Prefix of every key this project writes (lets several deployments share one Redis). */
    // A brace would become the hash tag of every key and defeat the Cluster key layout.
    keyPrefix: z
      .string()
      .regex(/^[^{}]*$/, { message: 'must not contain { or }' })
      .default('kob:'),
    connectTimeout: duration.default(5),
    /** Per-command timeout: a review fails (retryable 5xx) rather than hang past the apiserver's own. */
    commandTimeout: duration.default(2),
    /**
     * After a revocation, how long to wait (`WAIT 1 ms`) for a replica to acknowledge it where replicas
     * exist (Sentinel; Cluster shards with replicas; a standalone primary with connected replicas).
     * 0 = do not wait. A revocation no replica acknowledged is reported as failed.
     */
    replicaAckTimeoutMs: z.number().int().min(0).max(60_000).optional(),
  })
  .refine((r) => [r.url, r.sentinel, r.cluster].filter((v) => v !== undefined).length === 1, {
    message: 'configure exactly one of store.redis.url, store.redis.sentinel or store.redis.cluster',
  })
  .refine((r) => r.tlsCA === undefined || r.url?.startsWith('rediss:') === true, {
    message: 'tlsCA needs a rediss:// URL',
    path: ['tlsCA'],
  });

const storeSchema = z
  .strictObject({
    redis: redisSchema.optional(),
    memory: z.strictObject({}).optional(),
  })
  .refine((s) => (s.redis ? 1 : 0) + (s.memory ? 1 : 0) === 1, {
    message: 'configure exactly one store: redis or memory',
  });

const tokensSchema = z.strictObject({
  accessTokenTTL: duration.default(900),
  refreshTokenTTL: duration.default(43_200),
  /** A session (one login) ends after this, whatever refreshes happened: forces a new login. */
  maxSessionLifetime: duration.default(86_400),
  /** Two refreshes with the same refresh token within this window both succeed (dex#1976). */
  refreshReuseGrace: duration.default(10),
  /** HMAC key for token hashes in the store; without it, plain SHA-256 is used. */
  pepper: secretRef.optional(),
});

const verifierTlsSchema = z.strictObject({
  cert: filePath,
  key: filePath,
  /** CA bundle the apiserver's client certificate must chain to. Required unless insecure. */
  clientCA: filePath,
  /** When set, the client certificate's subject CN (or a DNS SAN) must be one of these. */
  allowedSubjects: z.array(z.string().min(1)).optional(),
});

const verifierSchema = z
  .strictObject({
    listen: listenAddress.default('127.0.0.1:8443'),
    /** Path of the TokenReview endpoint; the query string (`?timeout=30s`) is ignored. */
    path: z.string().startsWith('/').default('/authenticate'),
    tls: verifierTlsSchema.optional(),
    /** Serve plain HTTP without client certificates. Logs a warning at start and on every review. */
    insecureHTTP: z.boolean().default(false),
    /** Audiences this verifier accepts (this cluster's API audiences). */
    audiences: z.array(z.string().min(1)).min(1),
    maxBodyBytes: z.number().int().positive().default(65_536),
    /**
     * While the token store has been failing for at most this long, reviews get 503 + Retry-After (the
     * apiserver retries: a Sentinel failover goes unnoticed); past it, 503 without Retry-After (the
     * apiserver answers 401 at once instead of after 30 s of retries). See docs/verifier.md.
     */
    storeOutageRetryWindow: duration.default(10),
    /** Serving limits (defaults in src/verifier/serving-limits.ts); see docs/operations.md. */
    limits: z
      .strictObject({
        /** Time for a client to send the request headers (node:http `headersTimeout`). */
        headersTimeout: duration.optional(),
        /** Time for a whole request, headers and body (node:http `requestTimeout`). */
        requestTimeout: duration.optional(),
        /** Time to read a TokenReview body once its headers arrived. */
        bodyTimeout: duration.optional(),
        /** Time for a TLS handshake to complete. */
        tlsHandshakeTimeout: duration.optional(),
        /** Concurrent connections; more are refused (and a warning logged). */
        maxConnections: z.number().int().positive().optional(),
        /**
         * How long a review waits for the store before answering 503 + Retry-After; shorter than
         * store.redis.commandTimeout so a hung Redis does not hold every request for the full timeout.
         */
        storeDeadlineMs: z.number().int().positive().optional(),
        /** Store lookups in flight at most; beyond it reviews are shed with 503 + Retry-After. */
        maxInFlight: z.number().int().positive().optional(),
      })
      .optional(),
  })
  .refine((v) => v.tls !== undefined || v.insecureHTTP, {
    message: 'verifier.tls is required (or set insecureHTTP: true, never in production)',
    path: ['tls'],
  });

const clusterSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, { message: 'lowercase letters, digits, . _ -' }),
  /** Audience minted into tokens for this cluster; must match the verifier's `audiences` there. */
  audience: z.string().min(1),
  /** API server URL, for generated kubeconfigs. */
  server: httpUrl.optional(),
  certificateAuthorityData: z.string().optional(),
});

const upstreamFields = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, { message: 'lowercase letters, digits, _ -' }),
  displayName: z.string().optional(),
  issuer: httpUrl,
  clientID: z.string().min(1),
  clientSecret: secretRef.optional(),
  clientAuth: z
    .enum(['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'])
    .default('client_secret_basic'),
  /** PEM PKCS#8 private key (or JWK JSON) for `private_key_jwt`. */
  privateKey: secretRef.optional(),
  scopes: z.array(z.string().min(1)).default(['openid', 'email', 'profile']),
  authorizationParams: z.record(z.string(), z.string()).default({}),
  useUserinfo: z.boolean().default(false),
  /** Claims kept with the session (the mapping's inputs). Keep it small: it is stored per token. */
  claims: z
    .array(z.string().min(1))
    .default(['iss', 'sub', 'email', 'email_verified', 'name', 'preferred_username', 'groups']),
  /** Rules for this upstream; when absent the top-level `mapping` applies. */
  mapping: mappingSchema.optional(),
  /** Groups beyond what the tokens carry: distributed claims, Microsoft Graph, Okta; and a filter. */
  groups: upstreamGroupsSchema.optional(),
  /** Accept an http:// issuer. Development only. */
  allowInsecureRequests: z.boolean().default(false),
  /** PEM CA bundle for the IdP's TLS (default: system roots). */
  caFile: filePath.optional(),
});

/** What each client authentication method needs (upstream/client-auth.ts builds it). */
const upstreamSchema = upstreamFields.superRefine((u, ctx) => {
  const auth = u.clientAuth ?? 'client_secret_basic';
  if ((auth === 'client_secret_basic' || auth === 'client_secret_post') && u.clientSecret === undefined) {
    ctx.addIssue({ code: 'custom', path: ['clientSecret'], message: `required for ${auth}` });
  }
  if (auth === 'private_key_jwt' && u.privateKey === undefined) {
    ctx.addIssue({ code: 'custom', path: ['privateKey'], message: 'required for private_key_jwt' });
  }
});

const issuerSchema = z.strictObject({
  listen: listenAddress.default('127.0.0.1:8080'),
  /** The URL people and the CLI reach the issuer at (behind any proxy). Used in redirects and metadata. */
  publicURL: httpUrl.refine((u) => !URL.canParse(u) || u.startsWith('https:') || isLoopbackHttp(new URL(u)), {
    message: 'must be https:// (plain http is accepted only on a loopback address, for development)',
  }),
  tls: z.strictObject({ cert: filePath, key: filePath }).optional(),
  /** Key for signing cookies and CSRF tokens (≥ 32 bytes). */
  cookieSecret: keyMaterial(),
  /** Key that encrypts upstream refresh tokens at rest (≥ 32 bytes). */
  encryptionKey: keyMaterial(),
  /**
   * Which peers' X-Forwarded-For is believed: `false` none, a list of addresses/CIDR ranges those
   * proxies only, `true` loopback and private-network peers (see docs/configuration.md).
   */
  trustProxy: z.union([z.boolean(), z.array(addressRange).min(1)]).default(false),
  clusters: z.array(clusterSchema).min(1),
  upstreams: z.array(upstreamSchema).min(1),
  loginStateTTL: duration.default(600),
  /** Per client IP, per minute, shared across replicas through the store. */
  rateLimit: z
    .strictObject({
      /** Login starts, callbacks, authorization requests and device authorizations, each. */
      loginPerMinute: z.number().int().positive().default(30),
      userCodeAttemptsPerMinute: z.number().int().positive().default(10),
      /** Token endpoint requests (grants: code, refresh, device polls). */
      tokenPerMinute: z.number().int().positive().default(600),
      /**
       * Records waiting for a person (login states, authorization and device requests) one address
       * may create per `loginStateTTL`: bounds what an anonymous client can make the store hold.
       */
      pendingPerAddress: z.number().int().positive().default(200),
    })
    .default({
      loginPerMinute: 30,
      userCodeAttemptsPerMinute: 10,
      tokenPerMinute: 600,
      pendingPerAddress: 200,
    }),
  cli: z
    .strictObject({
      clientID: z.string().min(1).default('kube-oidc-bridge'),
      deviceCodeTTL: duration.default(600),
      devicePollInterval: duration.default(5),
      authorizationCodeTTL: duration.default(60),
    })
    .default({
      clientID: 'kube-oidc-bridge',
      deviceCodeTTL: 600,
      devicePollInterval: 5,
      authorizationCodeTTL: 60,
    }),
});

export const configSchema = z
  .strictObject({
    store: storeSchema,
    tokens: tokensSchema.default({
      accessTokenTTL: 900,
      refreshTokenTTL: 43_200,
      maxSessionLifetime: 86_400,
      refreshReuseGrace: 10,
    }),
    verifier: verifierSchema.optional(),
    issuer: issuerSchema.optional(),
    proxy: proxySchema.optional(),
    mapping: mappingSchema.default({
      claimValidationRules: [],
      claimMappings: { extra: [] },
      userValidationRules: [],
      groupMap: {},
    }),
    /**
     * Each upstream's own rules for a process that does not run the issuer (a proxy or verifier
     * deployed apart from it): the same rules as `issuer.upstreams[].mapping`, keyed by upstream name.
     */
    upstreamMappings: z
      .record(
        z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, { message: 'lowercase letters, digits, _ -' }),
        mappingSchema,
      )
      .default({}),
    logging: z
      .strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info') })
      .default({ level: 'info' }),
    /** Listener for /healthz, /readyz, /metrics when they should not share the role listeners. */
    ops: z.strictObject({ listen: listenAddress }).optional(),
  })
  .refine((c) => c.verifier !== undefined || c.issuer !== undefined || c.proxy !== undefined, {
    message: 'enable at least one role: verifier, issuer or proxy',
  });

export type ConfigFile = output<typeof configSchema>;
export type ConfigFileInput = input<typeof configSchema>;
