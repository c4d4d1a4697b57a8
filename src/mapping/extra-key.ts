/**
 * Rules for `extra` keys, as Kubernetes validates `claimMappings.extra[].key` (validation.go): a lowercase,
 * domain-prefixed path (`example.com/tenant`, apimachinery IsDomainPrefixedPath), not under k8s.io or
 * kubernetes.io, which are reserved for Kubernetes itself (user.Info extra keys like
 * `authentication.kubernetes.io/credential-id`).
 */

const DNS_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS_SUBDOMAIN = new RegExp(`^${DNS_LABEL}(\\.${DNS_LABEL})*$`);
const HTTP_PATH = /^[A-Za-z0-9/\-._~%!$&'()*+,;=:]+$/;
const RESERVED_DOMAINS = ['kubernetes.io', 'k8s.io'];

/** Every problem with an extra key; empty when the key is fine. */
export function extraKeyProblems(key: string): string[] {
  const problems: string[] = [];
  const slash = key.indexOf('/');
  const domain = slash < 0 ? '' : key.slice(0, slash);
  const path = slash < 0 ? '' : key.slice(slash + 1);
  if (domain === '' || path === '') {
    problems.push('must be a domain-prefixed path (such as "acme.io/foo")');
  } else {
    if (domain.length > 253 || !DNS_SUBDOMAIN.test(domain)) {
      problems.push(`domain "${domain}" must be a lowercase DNS subdomain`);
    }
    if (!HTTP_PATH.test(path)) problems.push(`path "${path}" contains characters not allowed in a URL path`);
  }
  if (key !== key.toLowerCase()) problems.push('must be lowercase');
  if (RESERVED_DOMAINS.some((d) => domain === d || domain.endsWith(`.${d}`))) {
    problems.push('k8s.io, kubernetes.io and their subdomains are reserved for Kubernetes use');
  }
  return problems;
}
