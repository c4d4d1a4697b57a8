import { createLogger } from '../../core/logger.js';
import { DEMO_AUDIENCE, type RunningDemo, startDemo } from '../../demo/start-demo.js';
import { parseFlags } from '../args.js';
import { type CliIO, UsageError } from '../io.js';

const USAGE = `Usage:
  kube-oidc-bridge demo [--port 8080] [--verifier-port 8081] [--idp-port 8090] [--log-level warn]

Runs everything in one process on 127.0.0.1, with no configuration file: the issuer (browser sign-in),
a verifier (plain HTTP, for trying TokenReview with curl), the in-memory token store, and a demo
OpenID Connect provider with one demo user. DEMO ONLY: never use it for a real cluster.
Stop it with Ctrl-C.
`;

function port(value: string | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65_535) throw new UsageError(`--${flag} must be a port number`);
  return n;
}

/** What the person running the demo needs: where to go, how to sign in, how to check the token. */
export function demoBanner(demo: RunningDemo): string {
  const review = JSON.stringify({
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenReview',
    spec: { token: 'TOKEN', audiences: [DEMO_AUDIENCE] },
  }).replace('"TOKEN"', `"'"$TOKEN"'"`);
  const rule = '='.repeat(72);
  return `
${rule}
  DEMO — NOT FOR PRODUCTION
  In-memory store, a built-in test identity provider, random secrets, and a
  verifier on plain HTTP without client certificates. Everything is lost on exit.
${rule}

  1. Open ${demo.issuerURL}/ in a browser and choose "Sign in with Demo IdP".
  2. Sign in as   username: ${demo.user.username}
                  password: ${demo.user.password}
     (groups: ${demo.user.groups.join(', ')})
  3. Copy the token from the result page, then ask the verifier about it,
     the way kube-apiserver does:

     TOKEN='paste the token here'
     curl -s ${demo.reviewURL} -H 'Content-Type: application/json' \\
       -d '${review}'

     The answer has "authenticated":true and the demo user's mapped groups.

  Demo identity provider: ${demo.idpURL}   Stop with Ctrl-C.
${rule}
`;
}

function nextSignal(): Promise<void> {
  return new Promise((resolve) => {
    const handler = () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
      resolve();
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  });
}

/** `demo`: start the demo world, print the banner, run until Ctrl-C. */
export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseFlags(argv, {
    port: { type: 'string' },
    'verifier-port': { type: 'string' },
    'idp-port': { type: 'string' },
    'log-level': { type: 'string' },
  });
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const logger = createLogger({
    level: values['log-level'] ?? 'warn',
    destination: { write: (line: string) => io.stderr.write(line) },
  });
  const demo = await startDemo({
    ports: {
      issuer: port(values.port, 8080, 'port'),
      verifier: port(values['verifier-port'], 8081, 'verifier-port'),
      idp: port(values['idp-port'], 8090, 'idp-port'),
    },
    env: io.env,
    logger,
  });
  io.stdout.write(demoBanner(demo));
  await nextSignal();
  io.stderr.write('demo: stopping\n');
  await demo.close();
  return 0;
}
