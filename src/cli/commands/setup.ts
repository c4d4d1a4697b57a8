import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { parseFlags, requireFlag } from '../args.js';
import { type CliIO, UsageError } from '../io.js';
import { mergeKubeconfig } from '../plugin/kubeconfig-merge.js';
import { writePrivateFile } from '../plugin/private-file.js';

const USAGE = `Usage:
  kube-oidc-bridge setup --issuer URL --cluster-name NAME --server https://… [flags]

Adds a cluster, a user and a context to your kubeconfig; the user runs \`kube-oidc-bridge login\` as a
kubectl exec credential plugin. The rest of the kubeconfig is left as it is; the new context becomes
the current one.

Flags:
  --issuer URL                  the kube-oidc-bridge issuer (required)
  --cluster-name NAME           name of the cluster entry (required)
  --server URL                  the cluster's API server, or the kube-oidc-bridge proxy in front of it
                                (managed clusters: docs/proxy.md) (required)
  --audience A                  the cluster's audience at the issuer (needed when it serves several)
  --certificate-authority FILE  PEM CA of the API server (or of the proxy), embedded in the kubeconfig
  --ca-file FILE                PEM CA of the issuer's TLS certificate, passed to the plugin
  --user NAME                   name of the user entry (default NAME-oidc)
  --context NAME                name of the context entry (default NAME)
  --kubeconfig FILE             file to edit (default: the first file in $KUBECONFIG, else ~/.kube/config)
  --exec-command CMD            the plugin command kubectl runs (default kube-oidc-bridge; installed with
                                krew it is kubectl-oidc_bridge)
`;

const FLAGS = {
  issuer: { type: 'string' },
  'cluster-name': { type: 'string' },
  server: { type: 'string' },
  audience: { type: 'string' },
  'certificate-authority': { type: 'string' },
  'ca-file': { type: 'string' },
  user: { type: 'string' },
  context: { type: 'string' },
  kubeconfig: { type: 'string' },
  'exec-command': { type: 'string' },
} as const;

/** kubectl's rule: --kubeconfig, else the first entry of $KUBECONFIG, else ~/.kube/config. */
function kubeconfigPath(flag: string | undefined, io: CliIO): string {
  if (flag) return resolve(io.cwd, flag);
  const first = (io.env.KUBECONFIG ?? '').split(delimiter).find((p) => p !== '');
  if (first) return resolve(io.cwd, first);
  return join(io.env.HOME || homedir(), '.kube', 'config');
}

function readOptional(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}

/** The user's `exec` block: what kubectl runs to get a token. */
export function execBlock(input: {
  issuer: string;
  audience?: string;
  caFile?: string;
  command?: string;
}): Record<string, unknown> {
  const args = ['login', '--issuer', input.issuer];
  if (input.audience) args.push('--audience', input.audience);
  if (input.caFile) args.push('--ca-file', input.caFile);
  return {
    apiVersion: 'client.authentication.k8s.io/v1',
    command: input.command ?? 'kube-oidc-bridge',
    args,
    // Browser logins need no stdin, so non-interactive kubectl runs (pipes, IDEs) may still call us.
    interactiveMode: 'IfAvailable',
    provideClusterInfo: false,
    installHint:
      'kube-oidc-bridge logs you in to this cluster. Install it with one of:\n  kubectl krew install oidc-bridge\n  npm install --global kube-oidc-bridge\n',
  };
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseFlags(argv, FLAGS);
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const issuer = requireFlag(values.issuer, 'issuer');
  const clusterName = requireFlag(values['cluster-name'], 'cluster-name');
  const server = requireFlag(values.server, 'server');
  if (!/^https?:\/\//.test(server)) throw new UsageError('--server must be an https:// URL');
  const cluster: Record<string, unknown> = { server };
  if (values['certificate-authority']) {
    const file = resolve(io.cwd, values['certificate-authority']);
    const pem = readOptional(file);
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
      throw new UsageError(`--certificate-authority: ${file} is not a PEM certificate`);
    }
    cluster['certificate-authority-data'] = Buffer.from(pem).toString('base64');
  }
  const userName = values.user ?? `${clusterName}-oidc`;
  const contextName = values.context ?? clusterName;
  const caFile = values['ca-file'] ? resolve(io.cwd, values['ca-file']) : undefined;
  const file = kubeconfigPath(values.kubeconfig, io);
  const merged = mergeKubeconfig(readOptional(file), {
    clusterName,
    cluster,
    userName,
    user: {
      exec: execBlock({
        issuer,
        audience: values.audience,
        caFile,
        command: values['exec-command'] || undefined,
      }),
    },
    contextName,
    context: { cluster: clusterName, user: userName },
    makeCurrent: true,
  });
  writePrivateFile(file, merged);
  io.stderr.write(
    `Wrote cluster "${clusterName}", user "${userName}" and context "${contextName}" to ${file}; "${contextName}" is now the current context.\n` +
      'Try it: kubectl get --raw /version   (the first call opens a browser to log in)\n',
  );
  return 0;
}
