import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

/**
 * Core pinning with taskset(1), as docs/design.md §10 asks: the server under test alone on core 0; the load
 * generator and Redis on core 1. On a machine with one core (or without taskset) nothing is pinned and
 * the figures say so.
 */
function tasksetAvailable() {
  try {
    execFileSync('taskset', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export const pinning = availableParallelism() >= 2 && tasksetAvailable();

/** `[command, args]` that runs `command args` on `core` (unchanged when pinning is unavailable). */
export function onCore(core, command, args) {
  return pinning ? ['taskset', ['-c', String(core), command, ...args]] : [command, args];
}

/** Moves this process (every thread, and so every thread it starts later) onto `core`. */
export function pinSelf(core) {
  if (pinning) execFileSync('taskset', ['-a', '-cp', String(core), String(process.pid)], { stdio: 'ignore' });
}
