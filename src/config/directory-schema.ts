import { duration, httpUrl, secretRef } from './schema-common.js';
import { z } from './zod.js';

/** Upper bound of `groups.maxGroups`: what a session may hold after the filter, whatever the directory says. */
export const MAX_SESSION_GROUPS = 5000;

const groupFilterSchema = z
  .strictObject({
    /** Keep groups starting with one of these. */
    prefixes: z.array(z.string().min(1)).min(1).optional(),
    /** Keep groups matching this regular expression (JavaScript syntax, anchored by you). */
    pattern: z
      .string()
      .min(1)
      .refine(
        (source) => {
          try {
            new RegExp(source, 'u');
            return true;
          } catch {
            return false;
          }
        },
        { message: 'not a valid regular expression' },
      )
      .optional(),
    /** Keep exactly these groups. */
    allow: z.array(z.string().min(1)).min(1).optional(),
  })
  .refine((f) => f.prefixes !== undefined || f.pattern !== undefined || f.allow !== undefined, {
    message: 'give at least one of prefixes, pattern or allow',
  });

const microsoftGraphSchema = z.strictObject({
  /** Graph API base URL; national clouds use their own (e.g. https://graph.microsoft.us/v1.0). */
  endpoint: httpUrl.default('https://graph.microsoft.com/v1.0'),
  /** `id` (object ids, what AKS-style RBAC binds) or `displayName`. */
  groupNames: z.enum(['id', 'displayName']).default('id'),
});

const oktaSchema = z.strictObject({
  /** The Okta org, e.g. https://example.okta.com. */
  orgURL: httpUrl,
  /** An Okta API token (SSWS) allowed to read users' groups; a file or env reference in production. */
  apiToken: secretRef,
  /** `name` (the group's profile name) or `id`. */
  groupNames: z.enum(['name', 'id']).default('name'),
  /** Okta puts at most this many groups in a token; a token at the limit counts as overage. */
  tokenLimit: z.number().int().positive().default(100),
});

/**
 * Where an upstream's groups come from when they do not all fit in its tokens: OIDC distributed and
 * aggregated claims, Microsoft Graph (Entra ID overage) or the Okta API, then a filter so the session
 * keeps only groups the rules can use.
 */
export const upstreamGroupsSchema = z
  .strictObject({
    /** The claim that carries the groups (in the token, and where resolved groups are put). */
    claim: z.string().min(1).default('groups'),
    /** Follow `_claim_names`/`_claim_sources` for claims in the upstream's `claims` list. */
    distributedClaims: z.boolean().default(true),
    /** A directory to ask: `token` (none), `microsoftGraph` or `okta`. */
    from: z.enum(['token', 'microsoftGraph', 'okta']).default('token'),
    /** Ask the directory only on overage (the token says groups were left out), or at every login and refresh. */
    when: z.enum(['overage', 'always']).default('overage'),
    microsoftGraph: microsoftGraphSchema.optional(),
    okta: oktaSchema.optional(),
    /** Applied before anything is stored; groups it drops never reach the session. */
    filter: groupFilterSchema.optional(),
    /** Most groups a session may hold after the filter; more refuses the login (never a silent cut). */
    maxGroups: z.number().int().positive().max(MAX_SESSION_GROUPS).default(1000),
    /** Time budget for all directory requests of one login or refresh. */
    timeout: duration.default(10),
  })
  .superRefine((groups, ctx) => {
    if (groups.from === 'okta' && groups.okta === undefined) {
      ctx.addIssue({ code: 'custom', path: ['okta'], message: 'required when from is okta' });
    }
  });
