import {
  closeSync,
  linkSync,
  lstatSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  utimesSync,
  writeSync,
} from 'node:fs';
import type { ErrorCode } from '../../core/errors.js';

/**
 * An exclusive lock file (O_CREAT|O_EXCL) held across a whole refresh or interactive login, so that
 * kubectl, k9s and IDE processes starting together wait for one login and then all reuse its token
 * instead of opening a browser tab each (kubelogin#389, #904).
 *
 * A holder that died leaves its file behind: the lock is taken over when the recorded process no
 * longer exists on this host, or when the file has not been touched for `staleAfterMs` (the holder
 * touches it while it waits for the user, so only a hung or foreign-host holder ages out).
 */
export interface LockOptions {
  /** Give up waiting after this long. */
  timeoutMs: number;
  /** A lock file older than this is considered abandoned. */
  staleAfterMs: number;
  /** How often to look again while someone else holds it. */
  pollMs?: number;
  /** Our process id, written into the file. */
  pid?: number;
  /** Whether a process id is alive on this host (injectable for tests). */
  isAlive?: (pid: number) => boolean;
}

export interface HeldLock {
  /** Marks the lock as still in use (resets the staleness clock). */
  touch(): void;
  release(): void;
}

/**
 * Carries its code from the closed set (ERR_LOCK_TIMEOUT) without extending BridgeError: the fast path
 * loads this file and must load nothing outside the CLI (a type-only import is erased).
 */
export class LockTimeoutError extends Error {
  readonly code: ErrorCode = 'ERR_LOCK_TIMEOUT';

  constructor(readonly path: string) {
    super(`timed out waiting for another kube-oidc-bridge login to finish (lock file ${path})`);
    this.name = 'LockTimeoutError';
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function tryCreate(path: string, pid: number): boolean {
  try {
    const fd = openSync(path, 'wx', 0o600);
    try {
      writeSync(fd, `${pid}\n`);
    } finally {
      closeSync(fd);
    }
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** The inode of the existing lock file when its holder is gone or the file is too old. */
function abandonedInode(path: string, options: Required<LockOptions>): number | undefined {
  let stat: { mtimeMs: number; ino: number };
  let holder: number;
  try {
    stat = lstatSync(path);
    holder = Number.parseInt(readFileSync(path, 'utf8'), 10);
  } catch {
    return undefined; // just released: look again next round
  }
  const age = Date.now() - stat.mtimeMs;
  if (age > options.staleAfterMs) return stat.ino;
  // A file caught between create and write has no pid yet: give its writer a moment.
  if (!Number.isInteger(holder) || holder <= 0) return age > 2_000 ? stat.ino : undefined;
  return holder !== options.pid && !options.isAlive(holder) ? stat.ino : undefined;
}

/**
 * Removes an abandoned lock without racing another waiter that did the same a moment earlier and
 * already holds a fresh lock: move it aside atomically, and if what we moved is not the file we judged
 * abandoned, put it back.
 */
function takeOver(path: string, inode: number, pid: number): void {
  const aside = `${path}.${pid}.stale`;
  try {
    renameSync(path, aside);
  } catch {
    return; // someone else moved it first
  }
  try {
    if (lstatSync(aside).ino !== inode) linkSync(aside, path);
  } catch {
    // a third process created a lock meanwhile: it holds it, we keep waiting
  }
  rmSync(aside, { force: true });
}

/** Waits for and takes the lock. Throws LockTimeoutError when `timeoutMs` passes first. */
export async function acquireLock(path: string, options: LockOptions): Promise<HeldLock> {
  const opts: Required<LockOptions> = {
    pollMs: 100,
    pid: process.pid,
    isAlive: processAlive,
    ...options,
  };
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    if (tryCreate(path, opts.pid)) {
      return {
        touch() {
          const now = new Date();
          try {
            utimesSync(path, now, now);
          } catch {
            // Taken over as stale meanwhile: nothing to keep alive.
          }
        },
        release() {
          try {
            if (Number.parseInt(readFileSync(path, 'utf8'), 10) === opts.pid) rmSync(path);
          } catch {
            // already gone
          }
        },
      };
    }
    const inode = abandonedInode(path, opts);
    if (inode !== undefined) {
      takeOver(path, inode, opts.pid);
      continue;
    }
    if (Date.now() >= deadline) throw new LockTimeoutError(path);
    await new Promise((resolve) => setTimeout(resolve, opts.pollMs));
  }
}
