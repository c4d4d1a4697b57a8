import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { onCore } from './cpu-pinning.js';

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());

/** CPU seconds (user + system) process `pid` has used so far. */
export function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** Resident memory of process `pid`, in MB. */
export function rssMB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(status.match(/VmRSS:\s+(\d+) kB/)[1]) / 1024;
}

/**
 * Starts a Node server script (`scriptArgs`: the script and its arguments) that reports `{ url }`
 * over IPC, pinned to `core` when given; resolves once it has reported, rejects if it exits first.
 * Its standard output is dropped unless `stdout: 'inherit'` (its log lines then interleave with ours).
 * `stop()` sends SIGTERM and waits for the exit.
 */
export async function startServerProcess(name, scriptArgs, { core, nodeArgs = [], stdout = 'ignore' } = {}) {
  const argv = [...nodeArgs, ...scriptArgs];
  const [command, args] =
    core === undefined ? [process.execPath, argv] : onCore(core, process.execPath, argv);
  const child = spawn(command, args, { stdio: ['ignore', stdout, 'inherit', 'ipc'] });
  const [message] = await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(([code]) => {
      throw new Error(`${name} exited with code ${code} before listening`);
    }),
  ]);
  return {
    name,
    url: message.url,
    pid: child.pid,
    cpuSeconds: () => cpuSeconds(child.pid),
    rssMB: () => rssMB(child.pid),
    /** Starts the server's own event-loop delay recording (bench/lib/loop-delay.js). */
    startLoopDelay: () => child.send('loop-delay:start'),
    /** Stops it and resolves with its percentiles in ms. */
    async readLoopDelay() {
      const answer = once(child, 'message');
      child.send('loop-delay:read');
      const [message] = await answer;
      return message.loopDelay;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}
