import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

/**
 * A real redis-server of the test's own, on a free loopback port: never the shared one on 6379, so
 * tests can flush, stop and restart it freely.
 */
export interface TestRedis {
  port: number;
  /** `redis://127.0.0.1:PORT/0` (plain, no auth). */
  url: string;
  /** Stops the server (SIGTERM, awaits exit). Data is lost: nothing persists. */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  /**
   * Sends a signal to the process: SIGSTOP/SIGCONT freeze and thaw it (a replica that falls behind),
   * SIGKILL kills it without a shutdown (nothing handed to replicas). After SIGKILL, `start()` again.
   */
  signal(signal: NodeJS.Signals): Promise<void>;
  /** Sends one command with redis-cli semantics and returns the raw RESP reply text. */
  command(...args: string[]): Promise<string>;
  /** Stops it and removes its folder. */
  close(): Promise<void>;
}

export interface TestRedisOptions {
  /** Extra redis-server arguments, e.g. ['--tls-port', '0'] or ACL `--user` lines. */
  args?: string[];
  /** Arguments that give the server its listening port; default plain `--port PORT`. */
  portArgs?: (port: number) => string[];
  /** Password for `command()` when the default user needs AUTH. */
  auth?: { username?: string; password: string };
}

function encodeCommand(args: string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
}

async function sendRaw(port: number, payload: string, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('redis did not answer in time'));
    }, timeoutMs);
    socket.on('connect', () => socket.write(payload));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.endsWith('\r\n')) {
        clearTimeout(timer);
        socket.end();
        resolve(reply);
      }
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Starts a redis-server on a free port and waits until it answers PING. */
export async function startTestRedis(options: TestRedisOptions = {}): Promise<TestRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'kob-redis-'));
  let child: ChildProcess | undefined;
  const authPrefix = options.auth
    ? encodeCommand([
        'AUTH',
        ...(options.auth.username ? [options.auth.username] : []),
        options.auth.password,
      ])
    : '';

  async function waitReady(): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        const reply = await sendRaw(port, encodeCommand(['PING']), 500);
        if (reply.startsWith('+PONG') || reply.startsWith('-NOAUTH')) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not start`);
      if (child?.exitCode !== null && child?.exitCode !== undefined) {
        throw new Error(`redis-server exited with code ${child.exitCode}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function start(): Promise<void> {
    const portArgs = options.portArgs ? options.portArgs(port) : ['--port', String(port)];
    child = spawn(
      'redis-server',
      [
        ...portArgs,
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        '--daemonize',
        'no',
        ...(options.args ?? []),
      ],
      { stdio: 'ignore' },
    );
    running.add(child);
    await waitReady();
  }

  async function stop(): Promise<void> {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    const exited = once(c, 'exit');
    c.kill('SIGTERM');
    // A frozen (SIGSTOP) server would never handle the SIGTERM.
    c.kill('SIGCONT');
    await exited;
    running.delete(c);
  }

  async function signal(name: NodeJS.Signals): Promise<void> {
    const c = child;
    if (!c || c.exitCode !== null) return;
    if (name !== 'SIGKILL') {
      c.kill(name);
      return;
    }
    child = undefined;
    const exited = once(c, 'exit');
    c.kill('SIGKILL');
    await exited;
    running.delete(c);
  }

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}/0`,
    stop,
    start,
    signal,
    async command(...args) {
      const reply = await sendRaw(port, authPrefix + encodeCommand(args));
      return authPrefix ? reply.replace(/^\+OK\r\n/, '') : reply;
    },
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
