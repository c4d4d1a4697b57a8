import { createHash } from 'node:crypto';
import { appendFileSync, closeSync, constants, fstatSync, openSync, rmSync } from 'node:fs';
import { O_NOFOLLOW, readCacheFile } from './cache-folder.js';

/**
 * client-go runs the plugin once per kubectl process and runs it again only when the server answered
 * 401 (or the credential it holds expired). So a second run for the same token from the same parent
 * process (`process.ppid`, the kubectl) within the token's life means the cluster refused that token:
 * revoked at the issuer, lost in a store failover, signed out on the web. Handing it out again would
 * fail every kubectl command until the token expires (Azure/kubelogin#101 is the same trap), so the
 * plugin remembers whom it handed which token and treats a repeat as "refused": skip the cache, refresh.
 *
 * One append-only file per cache entry, one line `PPID FINGERPRINT` per answer (appends of one short
 * line are atomic, so parallel kubectl processes do not lose each other's lines). The fingerprint is a
 * truncated hash, never the token. The file is emptied whenever a new token is written, and when it
 * grows past a cap. Import-light: the fast path uses it.
 */

/** Past this size the record starts over (at most one extra refresh for whoever was in it). */
const MAX_RECORD_BYTES = 64 * 1024;

/** A short, non-reversible name for a token. */
export function tokenFingerprint(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 16);
}

function readRecord(file: string): string | undefined {
  return readCacheFile(file, MAX_RECORD_BYTES, (stats) => stats.isFile());
}

/** True when `token` was already handed to the process `parentPid` (so the cluster refused it). */
export function wasHandedBefore(file: string, parentPid: number, token: string): boolean {
  const line = `${parentPid} ${tokenFingerprint(token)}`;
  return readRecord(file)?.split('\n').includes(line) ?? false;
}

/** Remembers that `token` was handed to `parentPid`. Best effort: a failure only costs a refresh. */
export function recordHandedToken(file: string, parentPid: number, token: string): void {
  try {
    const openForAppend = () =>
      openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | O_NOFOLLOW, 0o600);
    let fd = openForAppend();
    // Its size, not a second read of it (wasHandedBefore read it already on this run): a full record
    // starts over.
    if (fstatSync(fd).size >= MAX_RECORD_BYTES) {
      closeSync(fd);
      forgetHandedTokens(file);
      fd = openForAppend();
    }
    try {
      appendFileSync(fd, `${parentPid} ${tokenFingerprint(token)}\n`);
    } finally {
      closeSync(fd);
    }
  } catch {
    // a symlink at the record's name, a full disk: the answer is still right, only not remembered
  }
}

/** Starts the record over (a new token was cached). */
export function forgetHandedTokens(file: string): void {
  rmSync(file, { force: true });
}

/**
 * The parent process to remember, or undefined when the rule does not apply: a person running the
 * plugin by hand from a shell may run it twice in a row on purpose, and an orphan's parent is init.
 */
export function kubectlParent(byHand: boolean, ppid: number): number | undefined {
  return byHand || ppid <= 1 ? undefined : ppid;
}
