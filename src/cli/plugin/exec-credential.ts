/**
 * The kubectl exec credential protocol (client.authentication.k8s.io), kept free of imports: the
 * fast path answers every kubectl command with it.
 * @see https://kubernetes.io/docs/reference/access-authn-authz/authentication/#client-go-credential-plugins
 */

export type ExecCredentialVersion =
  | 'client.authentication.k8s.io/v1'
  | 'client.authentication.k8s.io/v1beta1';

const VERSIONS: readonly string[] = [
  'client.authentication.k8s.io/v1',
  'client.authentication.k8s.io/v1beta1',
];

/** What kubectl told us in `KUBERNETES_EXEC_INFO`. */
export interface ExecInfo {
  apiVersion: ExecCredentialVersion;
  /** False when kubectl's stdin is not a terminal (or `interactiveMode: Never`). */
  interactive: boolean;
  /** True when the variable was absent: a person ran the command by hand. */
  byHand: boolean;
}

/**
 * Reads `KUBERNETES_EXEC_INFO`. kubectl sets it for every v1/v1beta1 exec plugin; when it is absent a
 * person (or an older client) runs us directly, so we answer in v1beta1, which every client since
 * Kubernetes 1.11 understands, and treat the run as interactive. Returns an error text for a value
 * we cannot honour (an apiVersion we do not speak): answering in another version makes kubectl fail
 * with a less helpful message.
 */
export function readExecInfo(raw: string | undefined): ExecInfo | { error: string } {
  if (raw === undefined || raw.trim() === '') {
    return { apiVersion: 'client.authentication.k8s.io/v1beta1', interactive: true, byHand: true };
  }
  let parsed: { apiVersion?: unknown; spec?: { interactive?: unknown } };
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { error: 'KUBERNETES_EXEC_INFO is not valid JSON' };
  }
  const apiVersion = parsed?.apiVersion;
  if (typeof apiVersion !== 'string' || !VERSIONS.includes(apiVersion)) {
    return {
      error: `KUBERNETES_EXEC_INFO asks for apiVersion ${String(apiVersion)}; use client.authentication.k8s.io/v1 or v1beta1 in the kubeconfig exec block`,
    };
  }
  return {
    apiVersion: apiVersion as ExecCredentialVersion,
    interactive: parsed.spec?.interactive === true,
    byHand: false,
  };
}

/**
 * kubectl drops a credential exactly at `expirationTimestamp` with no margin of its own, and the
 * apiserver checks the token a moment later: report the expiry this many seconds early.
 */
export const REPORTED_EXPIRY_MARGIN = 20;

/**
 * A cached token is only handed out when it has at least this long left, so the reported expiry
 * (margin above) is still some seconds in the future.
 */
export const MIN_REMAINING_LIFETIME = REPORTED_EXPIRY_MARGIN + 10;

/** RFC 3339, second precision, UTC: what client-go parses. */
function rfc3339(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The one line the plugin writes on stdout. */
export function formatExecCredential(
  apiVersion: ExecCredentialVersion,
  token: string,
  expiresAt: number,
): string {
  return `${JSON.stringify({
    kind: 'ExecCredential',
    apiVersion,
    spec: {},
    status: { token, expirationTimestamp: rfc3339(expiresAt - REPORTED_EXPIRY_MARGIN) },
  })}\n`;
}
