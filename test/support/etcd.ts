import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { goToolPath } from './go-tools.js';
import { until } from './until.js';

/** A one-member etcd (tools/etcd, the real server) on free loopback ports with a throwaway data dir. */
export interface TestEtcd {
  /** `http://127.0.0.1:PORT`: what kube-apiserver's `--etcd-servers` takes. */
  url: string;
  close(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Starts etcd and waits until its /health says so. Throws (never skips) when the binary is not built. */
export async function startEtcd(): Promise<TestEtcd> {
  const binary = goToolPath('etcd');
  const dir = mkdtempSync(join(tmpdir(), 'kob-etcd-'));
  const clientURL = `http://127.0.0.1:${await freePort()}`;
  const peerURL = `http://127.0.0.1:${await freePort()}`;
  let output = '';
  const child = spawn(
    binary,
    [
      '--name=test',
      `--data-dir=${join(dir, 'data')}`,
      `--listen-client-urls=${clientURL}`,
      `--advertise-client-urls=${clientURL}`,
      `--listen-peer-urls=${peerURL}`,
      `--initial-advertise-peer-urls=${peerURL}`,
      `--initial-cluster=test=${peerURL}`,
      // Test data is thrown away: skipping fsync keeps etcd from waiting on a busy shared disk.
      '--unsafe-no-fsync',
      '--log-level=error',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  running.add(child);
  child.stderr?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  });

  async function close(): Promise<void> {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
    running.delete(child);
    rmSync(dir, { recursive: true, force: true });
  }

  try {
    // An exited etcd ends the wait at once; the check below then says why.
    await until(
      'etcd to report healthy',
      async () => {
        if (child.exitCode !== null) return true;
        const res = await fetch(`${clientURL}/health`);
        return res.ok && ((await res.json()) as { health?: string }).health === 'true';
      },
      60_000,
    );
    if (child.exitCode !== null) throw new Error(`etcd exited with code ${child.exitCode}`);
  } catch (err) {
    await close();
    throw new Error(`etcd did not start: ${(err as Error).message}\n${output}`);
  }
  return { url: clientURL, close };
}
