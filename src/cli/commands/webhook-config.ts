import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { stringify } from 'yaml';
import { parseFlags, requireFlag } from '../args.js';
import { type CliIO, UsageError } from '../io.js';

const USAGE = `Usage:
  kube-oidc-bridge webhook-config --url URL --ca FILE --client-cert FILE --client-key FILE [--out FILE]

Prints (or writes to --out, mode 0600) the kubeconfig-format file that kube-apiserver's
--authentication-token-webhook-config-file takes:
  clusters  the verifier: --url (e.g. https://verifier.example:8443/authenticate) and --ca, the CA
            that signed the verifier's serving certificate
  users     the apiserver's client certificate and key (--client-cert, --client-key), signed by
            the CA in the verifier's verifier.tls.clientCA
The files are embedded as base64 data, so the result is self-contained. It holds a private key:
keep it readable by the apiserver only.
`;

const FLAGS = {
  url: { type: 'string' },
  ca: { type: 'string' },
  'client-cert': { type: 'string' },
  'client-key': { type: 'string' },
  out: { type: 'string', short: 'o' },
} as const;

function readPem(cwd: string, file: string, flag: string, marker: RegExp): string {
  let text: string;
  try {
    text = readFileSync(resolve(cwd, file), 'utf8');
  } catch (err) {
    throw new UsageError(`--${flag}: cannot read ${file}: ${(err as Error).message}`);
  }
  if (!marker.test(text)) throw new UsageError(`--${flag}: ${file} is not the expected PEM file`);
  return Buffer.from(text).toString('base64');
}

/**
 * The webhook kubeconfig: one cluster (the verifier), one user (the apiserver's client certificate),
 * one context, as `clientcmd` reads it.
 * @see https://kubernetes.io/docs/reference/access-authn-authz/authentication/#webhook-token-authentication
 */
export function webhookKubeconfig(input: {
  url: string;
  caData: string;
  clientCertData: string;
  clientKeyData: string;
}): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'kube-oidc-bridge',
        cluster: { server: input.url, 'certificate-authority-data': input.caData },
      },
    ],
    users: [
      {
        name: 'kube-apiserver',
        user: { 'client-certificate-data': input.clientCertData, 'client-key-data': input.clientKeyData },
      },
    ],
    contexts: [{ name: 'webhook', context: { cluster: 'kube-oidc-bridge', user: 'kube-apiserver' } }],
    'current-context': 'webhook',
  });
}

/** `webhook-config`: prints or writes the apiserver's webhook kubeconfig. */
export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseFlags(argv, FLAGS);
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const url = requireFlag(values.url, 'url');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--url: not a URL: ${url}`);
  }
  if (parsed.protocol !== 'https:') {
    throw new UsageError('--url must be https:// (the verifier requires the apiserver client certificate)');
  }
  const certMarker = /-----BEGIN CERTIFICATE-----/;
  const text = webhookKubeconfig({
    url,
    caData: readPem(io.cwd, requireFlag(values.ca, 'ca'), 'ca', certMarker),
    clientCertData: readPem(
      io.cwd,
      requireFlag(values['client-cert'], 'client-cert'),
      'client-cert',
      certMarker,
    ),
    clientKeyData: readPem(
      io.cwd,
      requireFlag(values['client-key'], 'client-key'),
      'client-key',
      /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
    ),
  });
  if (values.out === undefined) {
    io.stdout.write(text);
    return 0;
  }
  writeFileSync(resolve(io.cwd, values.out), text, { mode: 0o600 });
  io.stderr.write(`wrote ${values.out}\n`);
  return 0;
}
