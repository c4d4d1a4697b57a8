import type { CliIO, CommandRunner } from './io.js';
import { UsageError } from './io.js';

/**
 * The dispatcher. Deliberately tiny and import-free: kubectl runs `kube-oidc-bridge login` before every
 * command, so each command is loaded only when asked for (docs/design.md §5: the cached path must not load
 * koa, ioredis or openid-client).
 */
interface CommandEntry {
  summary: string;
  load: () => Promise<{ run: CommandRunner }>;
}

const COMMANDS: Record<string, CommandEntry> = {
  serve: {
    summary: 'run the roles the config enables (issuer, verifier)',
    load: () => import('./commands/serve.js'),
  },
  demo: {
    summary: 'run everything in one process: memory store, demo IdP (not for production)',
    load: () => import('./commands/demo.js'),
  },
  'token mint': {
    summary: 'mint a token for a user or a set of claims',
    load: () => import('./commands/token-mint.js'),
  },
  'token revoke': {
    summary: 'revoke a token or all sessions of a user',
    load: () => import('./commands/token-revoke.js'),
  },
  'token list': {
    summary: 'list live sessions (no secrets)',
    load: () => import('./commands/token-list.js'),
  },
  'mapping explain': {
    summary: 'show what the mapping rules make of a set of claims',
    load: () => import('./commands/mapping-explain.js'),
  },
  'config check': {
    summary: 'validate a configuration file',
    load: () => import('./commands/config-check.js'),
  },
  'webhook-config': {
    summary: "print the kube-apiserver's authentication webhook kubeconfig",
    load: () => import('./commands/webhook-config.js'),
  },
  login: {
    summary: 'kubectl exec credential plugin: print an ExecCredential',
    load: () => import('./commands/login.js'),
  },
  setup: {
    summary: 'add a kubeconfig user/context that uses this plugin',
    load: () => import('./commands/setup.js'),
  },
  logout: {
    summary: 'revoke the cached session at the issuer and clear the cache',
    load: () => import('./commands/logout.js'),
  },
  whoami: { summary: 'show who the cluster will see you as', load: () => import('./commands/whoami.js') },
};

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    'kube-oidc-bridge: Kubernetes authentication webhook and OIDC token issuer',
    '',
    'Usage: kube-oidc-bridge <command> [flags]',
    '',
    'Commands:',
    ...lines,
    '',
    'Run `kube-oidc-bridge <command> --help` for the flags of a command.',
    '',
  ].join('\n');
}

function findCommand(argv: string[]): { name: string; entry: CommandEntry; rest: string[] } | undefined {
  const two = `${argv[0]} ${argv[1]}`;
  if (COMMANDS[two]) return { name: two, entry: COMMANDS[two], rest: argv.slice(2) };
  const one = argv[0];
  if (one !== undefined && COMMANDS[one]) return { name: one, entry: COMMANDS[one], rest: argv.slice(1) };
  return undefined;
}

/** Runs a command and returns its exit code (does not exit: tests call this in-process). */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    (argv.length === 0 ? io.stderr : io.stdout).write(usage());
    return argv.length === 0 ? 2 : 0;
  }
  if (argv[0] === '--version') {
    io.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const found = findCommand(argv);
  if (!found) {
    io.stderr.write(`kube-oidc-bridge: unknown command "${argv.slice(0, 2).join(' ')}"\n\n${usage()}`);
    return 2;
  }
  try {
    const mod = await found.entry.load();
    return await mod.run(found.rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(
        `kube-oidc-bridge ${found.name}: ${err.message}\nRun \`kube-oidc-bridge ${found.name} --help\`.\n`,
      );
      return 2;
    }
    const e = err as { code?: string; message?: string };
    io.stderr.write(`kube-oidc-bridge ${found.name}: ${e.message ?? String(err)}\n`);
    return 1;
  }
}

export const VERSION = '0.1.0';

/** Process entry point used by bin/kube-oidc-bridge.js. */
export async function main(argv: string[]): Promise<void> {
  const code = await runCli(argv, {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
  });
  // Long-running commands (serve, demo) never resolve until shutdown; short ones end here.
  process.exitCode = code;
}
