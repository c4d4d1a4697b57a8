/**
 * The built-in `system:` guard (docs/design.md §3, §6.6). `system:masters` bypasses all authorization, and other
 * `system:` names impersonate nodes, controllers and service accounts, so such a name may only come from a
 * rule an admin wrote on purpose: a `groupMap` entry, or an admin-minted identity with `allowSystem`. A
 * `system:` value reaching us from the IdP (a claim, or an expression over claims) refuses the whole mapping.
 */

/** The `rule` of an outcome refused by the guard. */
export const SYSTEM_GUARD_RULE = 'system-guard';

const SYSTEM_PREFIX = 'system:';

/**
 * Names the kube-apiserver manages itself: it adds `system:authenticated` to every authenticated user and
 * uses the others for anonymous requests. A webhook answer carrying them is wrong whoever asked, so they are
 * refused everywhere (and rejected in `groupMap` at start).
 */
export const APISERVER_RESERVED_NAMES: ReadonlySet<string> = new Set([
  'system:anonymous',
  'system:unauthenticated',
  'system:authenticated',
]);

/** Where a name came from decides what the admin must do to produce a system: name on purpose. */
const REMEDY = {
  claims: {
    username: 'a system: username can only be minted by an admin with allowSystem',
    group: "it came from the IdP's claims, and system: groups may only come from groupMap",
  },
  minted: { username: 'minting it requires allowSystem', group: 'minting it requires allowSystem' },
} as const;

/**
 * Why the guard refuses an identity that came from IdP claims (`claims`) or was written by an admin without
 * allowSystem (`minted`), or undefined when it holds no system: name.
 */
export function refuseSystemNames(
  username: string,
  groups: readonly string[],
  origin: keyof typeof REMEDY,
): string | undefined {
  if (username.startsWith(SYSTEM_PREFIX)) {
    return `username "${username}" starts with "system:"; ${REMEDY[origin].username}`;
  }
  const group = groups.find((g) => g.startsWith(SYSTEM_PREFIX));
  return group === undefined ? undefined : `group "${group}" starts with "system:"; ${REMEDY[origin].group}`;
}

/** Why an identity is refused for using an apiserver-reserved name, or undefined when it does not. */
export function refuseReservedNames(username: string, groups: readonly string[]): string | undefined {
  if (APISERVER_RESERVED_NAMES.has(username)) {
    return `username "${username}" is reserved by the kube-apiserver and never emitted`;
  }
  const group = groups.find((g) => APISERVER_RESERVED_NAMES.has(g));
  return group === undefined
    ? undefined
    : `group "${group}" is reserved by the kube-apiserver and never emitted`;
}
