import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { onCore } from './cpu-pinning.js';

/** A port that was free on 127.0.0.1 a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function ping(port) {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(500, () => socket.destroy());
    socket.on('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'));
    socket.on('data', (d) => {
      socket.end();
      resolve(d.toString().startsWith('+PONG'));
    });
    socket.on('error', () => resolve(false));
    socket.on('close', () => resolve(false));
  });
}

/**
 * Sends one command to the Redis (or Sentinel) on `port` over a connection of its own and returns the
 * parsed reply; fails after 2 s instead of retrying (a frozen or dead node is an answer too).
 */
export async function redisCall(port, ...args) {
  const client = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    connectTimeout: 2000,
    commandTimeout: 2000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableReadyCheck: false,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await client.call(...args);
  } finally {
    client.disconnect();
  }
}

/**
 * A private redis-server on a free loopback port with its own folder, never the shared Redis on 6379.
 * `args` are added to a no-persistence base (`aof: true` turns on AOF with `appendfsync always`);
 * `portArgs(port, dir)` replaces `--port PORT` (Sentinel mode needs its config file first); `core` pins it.
 * The node can be frozen (`signal('SIGSTOP')`), killed (`kill()`), started again on the same port and
 * folder (`start()`), and `stop()` ends it and removes the folder.
 */
export async function startRedisNode({ args = [], portArgs, core, aof = false } = {}) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'kob-bench-redis-'));
  const persistence = aof ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  const argv = [
    ...(portArgs ? portArgs(port, dir) : ['--port', String(port)]),
    ...['--bind', '127.0.0.1', '--save', '', '--dir', dir, ...persistence, ...args],
  ];
  let child;
  // A process killed by a signal has no exit code, only a signal code.
  const running = () => child.exitCode === null && child.signalCode === null;
  async function start() {
    const [command, commandArgs] =
      core === undefined ? ['redis-server', argv] : onCore(core, 'redis-server', argv);
    child = spawn(command, commandArgs, { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    while (!(await ping(port))) {
      if (!running()) throw new Error(`redis-server exited (${child.exitCode ?? child.signalCode})`);
      if (Date.now() > deadline) throw new Error('redis-server did not start within 10 s');
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  async function kill() {
    if (!running()) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}/0`,
    dir,
    signal: (name) => running() && child.kill(name),
    kill,
    start,
    call: (...command) => redisCall(port, ...command),
    async stop() {
      if (running()) {
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        // A frozen (SIGSTOP) server would never handle the SIGTERM.
        child.kill('SIGCONT');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A private redis-server without persistence pinned to `core`; `stop()` ends it and removes its folder.
 * The benchmarks use it: they write thousands of keys.
 */
export function startRedis(core) {
  return startRedisNode({ core });
}
