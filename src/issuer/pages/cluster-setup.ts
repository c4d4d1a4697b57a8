import { stringify } from 'yaml';
import type { ClusterConfig } from '../../config/index.js';

const SERVER_PLACEHOLDER = 'https://YOUR-API-SERVER:6443';
const SHELL_SAFE = /^[A-Za-z0-9_\-.:/@=+,]+$/;

function shellQuote(value: string): string {
  return SHELL_SAFE.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The one-line command that sets up the CLI plugin for a cluster (the plugin route). */
export function setupCommand(issuerURL: string, cluster: ClusterConfig): string {
  return [
    'kube-oidc-bridge setup',
    `--issuer ${shellQuote(issuerURL)}`,
    `--cluster-name ${shellQuote(cluster.name)}`,
    `--server ${shellQuote(cluster.server ?? SERVER_PLACEHOLDER)}`,
    `--audience ${shellQuote(cluster.audience)}`,
  ].join(' ');
}

/**
 * A complete kubeconfig using a static token (the token route): works until the token expires, no
 * plugin needed.
 * @see https://kubernetes.io/docs/concepts/configuration/organize-cluster-access-kubeconfig/
 */
export function staticTokenKubeconfig(cluster: ClusterConfig, username: string, token: string): string {
  const user = `${username}@${cluster.name}`;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: cluster.name,
        cluster: {
          server: cluster.server ?? SERVER_PLACEHOLDER,
          ...(cluster.certificateAuthorityData
            ? { 'certificate-authority-data': cluster.certificateAuthorityData }
            : {}),
        },
      },
    ],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: cluster.name, context: { cluster: cluster.name, user } }],
    'current-context': cluster.name,
  });
}
