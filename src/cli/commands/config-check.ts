import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { Config } from '../../config/index.js';
import { ConfigError, type ConfigProblem } from '../../core/errors.js';
import { compileMappingSet } from '../../mapping/index.js';
import { parseFlags, requireFlag } from '../args.js';
import type { CliIO } from '../io.js';
import { loadConfigForCommand } from './admin-context.js';

const USAGE = `Usage:
  kube-oidc-bridge config check --config FILE

Validates a configuration file without starting anything or connecting to the store: the schema,
secrets (files and environment variables), certificate and key files (readable, and a key that
matches its certificate), and every mapping rule (CEL expressions compile).
Prints every problem by its path; exit status 0 when valid, 1 when not.
`;

/** TLS material must load as the server will load it: catches a key that does not match its cert. */
function tlsProblems(config: Config): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const verifierTls = config.verifier?.insecureHTTP ? undefined : config.verifier?.tls;
  const sections: { path: string; files?: { cert: string; key: string; ca?: string } }[] = [
    { path: 'verifier.tls', files: verifierTls && { ...verifierTls, ca: verifierTls.clientCA } },
    { path: 'issuer.tls', files: config.issuer?.tls },
  ];
  for (const { path, files } of sections) {
    if (!files) continue;
    try {
      createSecureContext({
        cert: readFileSync(files.cert),
        key: readFileSync(files.key),
        ca: files.ca === undefined ? undefined : readFileSync(files.ca),
      });
    } catch (err) {
      problems.push({ path, message: `cannot load certificate/key: ${(err as Error).message}` });
    }
  }
  return problems;
}

function roles(config: Config): string {
  return [config.verifier && 'verifier', config.issuer && 'issuer'].filter(Boolean).join(', ');
}

/** `config check`: every problem by path, exit 0/1. */
export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseFlags(argv, { config: { type: 'string', short: 'c' } });
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const file = requireFlag(values.config, 'config');
  const problems: ConfigProblem[] = [];
  let config: Config | undefined;
  try {
    config = loadConfigForCommand(file, io);
    await compileMappingSet(config);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
  }
  if (config) problems.push(...tlsProblems(config));
  if (problems.length > 0) {
    io.stderr.write(`${file}: ${ConfigError.describe(problems)}\n`);
    return 1;
  }
  io.stdout.write(`${file}: configuration is valid (roles: ${roles(config as Config)})\n`);
  return 0;
}
