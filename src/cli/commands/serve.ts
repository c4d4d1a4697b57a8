import { startServices } from '../../server/index.js';
import { parseFlags, requireFlag } from '../args.js';
import type { CliIO } from '../io.js';
import { loadConfigForCommand } from './admin-context.js';

const USAGE = `Usage:
  kube-oidc-bridge serve --config FILE

Runs the roles the configuration enables (verifier, issuer) until SIGTERM or SIGINT, then shuts
down gracefully: stops accepting connections, lets requests in flight finish, closes the store.
A second signal exits at once. Logs are JSON lines on stdout.
`;

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

function nextSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const handler = (signal: NodeJS.Signals) => {
      for (const s of SIGNALS) process.off(s, handler);
      resolve(signal);
    };
    for (const s of SIGNALS) process.on(s, handler);
  });
}

/** `serve`: start, wait for a signal, drain, exit 0. */
export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseFlags(argv, { config: { type: 'string', short: 'c' } });
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const config = loadConfigForCommand(requireFlag(values.config, 'config'), io);
  const services = await startServices(config, { env: io.env });
  const signal = await nextSignal();
  services.logger.info({ signal }, 'shutting down: draining in-flight requests');
  void nextSignal().then((again) => {
    services.logger.warn({ signal: again }, 'second signal: exiting without draining');
    process.exit(1);
  });
  await services.close();
  return 0;
}
