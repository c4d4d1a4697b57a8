/** The admin's group filter, compiled once per upstream. */
export interface GroupFilterRules {
  prefixes?: string[] | undefined;
  pattern?: string | undefined;
  allow?: string[] | undefined;
}

/** True for a group the session may keep. No filter keeps everything. */
export type GroupFilter = (group: string) => boolean;

/**
 * A group passes when it matches any of the given rules (prefix, pattern, allow-list): the rules
 * widen each other, so `prefixes: [k8s-]` plus `allow: [admins]` keeps both kinds.
 */
export function compileGroupFilter(rules: GroupFilterRules | undefined): GroupFilter {
  if (!rules) return () => true;
  const prefixes = rules.prefixes ?? [];
  const pattern = rules.pattern === undefined ? undefined : new RegExp(rules.pattern, 'u');
  const allow = new Set(rules.allow ?? []);
  return (group) =>
    allow.has(group) || prefixes.some((p) => group.startsWith(p)) || (pattern?.test(group) ?? false);
}
