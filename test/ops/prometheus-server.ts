import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort } from '../support/free-port.js';
import { until } from '../support/until.js';
import { prometheusTool } from './prometheus-tools.js';

/**
 * A Prometheus server of the test's own (Debian's `prometheus` binary): its own configuration, a
 * temporary TSDB, a free loopback port. Never the system Prometheus the Debian package may run on
 * :9090.
 */
export interface TestPrometheus {
  url: string;
  /** GET /api/v1/<path> with query parameters; resolves with `data`, rejects on a non-success status. */
  api<T>(path: string, params?: Record<string, string>): Promise<T>;
  /** The raw JSON answer of an instant query, errors included (for asserting on them). */
  query(expr: string): Promise<{ status: string; error?: string; warnings?: string[]; data?: unknown }>;
  close(): Promise<void>;
}

export async function startTestPrometheus(options: {
  /** job name → `host:port` scraped at `/metrics`. */
  targets: Record<string, string>;
  ruleFiles: string[];
}): Promise<TestPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'kob-prometheus-'));
  const config = join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    stringify({
      global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
      rule_files: options.ruleFiles,
      scrape_configs: Object.entries(options.targets).map(([job, target]) => ({
        job_name: job,
        static_configs: [{ targets: [target] }],
      })),
    }),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  const child: ChildProcess = spawn(
    prometheusTool('prometheus'),
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (c: Buffer) => {
    output += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    output += c.toString();
  });
  const exited = once(child, 'exit');

  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };

  async function getJSON(path: string, params: Record<string, string> = {}) {
    const response = await fetch(`${url}${path}?${new URLSearchParams(params)}`);
    return (await response.json()) as { status: string; error?: string; warnings?: string[]; data?: unknown };
  }

  try {
    await until(
      'prometheus /-/ready',
      async () => child.exitCode === null && (await fetch(`${url}/-/ready`)).status === 200,
      30_000,
    );
  } catch (err) {
    await close();
    throw new Error(`prometheus did not become ready: ${output}`, { cause: err });
  }

  return {
    url,
    async api<T>(path: string, params: Record<string, string> = {}) {
      const answer = await getJSON(`/api/v1/${path}`, params);
      if (answer.status !== 'success') throw new Error(`prometheus ${path}: ${answer.error}`);
      return answer.data as T;
    },
    query: (expr) => getJSON('/api/v1/query', { query: expr }),
    close,
  };
}
