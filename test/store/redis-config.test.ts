import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { systemClock } from '../../src/core/clock.js';
import { ConfigError } from '../../src/core/errors.js';
import { createRedisStore } from '../../src/store/index.js';

function storeRedis(redis: unknown) {
  return parseConfig(
    { store: { redis }, verifier: { insecureHTTP: true, audiences: ['https://kubernetes.default.svc'] } },
    { env: { SENTINEL_PASSWORD: 's3cret' }, baseDir: process.cwd() },
  ).store.redis;
}

function problems(redis: unknown) {
  try {
    storeRedis(redis);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const EXACTLY_ONE = 'configure exactly one of store.redis.url, store.redis.sentinel or store.redis.cluster';

describe('store.redis: url, sentinel or cluster', () => {
  it.each([
    ['a URL (standalone)', { url: 'redis://redis:6379/0' }, { url: 'redis://redis:6379/0' }],
    [
      'sentinels, with their own password from the environment',
      {
        sentinel: {
          name: 'kob',
          nodes: ['sentinel-0:26379', '[::1]:26379'],
          password: { env: 'SENTINEL_PASSWORD' },
        },
      },
      { sentinel: { name: 'kob', nodes: ['sentinel-0:26379', '[::1]:26379'], password: 's3cret' } },
    ],
    [
      'cluster seed nodes',
      { cluster: { nodes: ['redis-0:6379'] } },
      { cluster: { nodes: ['redis-0:6379'] } },
    ],
  ])('accepts %s', (_name, redis, expected) => {
    expect(storeRedis(redis)).toMatchObject({
      ...expected,
      keyPrefix: 'kob:',
      connectTimeout: 5,
      commandTimeout: 2,
    });
  });

  it.each([
    ['none of them', {}, [{ path: 'store.redis', message: EXACTLY_ONE }]],
    [
      'a URL and a cluster',
      { url: 'redis://redis:6379', cluster: { nodes: ['redis-0:6379'] } },
      [{ path: 'store.redis', message: EXACTLY_ONE }],
    ],
    [
      'a sentinel without its master group name',
      { sentinel: { nodes: ['sentinel-0:26379'] } },
      [{ path: 'store.redis.sentinel.name', message: expect.any(String) }],
    ],
    [
      'a node without a port',
      { cluster: { nodes: ['redis-0'] } },
      [{ path: 'store.redis.cluster.nodes.0', message: expect.stringContaining('host:port') }],
    ],
    [
      'an empty node list',
      { cluster: { nodes: [] } },
      [{ path: 'store.redis.cluster.nodes', message: expect.any(String) }],
    ],
  ])('refuses %s, naming the field', (_name, redis, expected) => {
    expect(problems(redis)).toEqual(expected);
  });

  it('refuses tlsCA without a rediss:// URL (TLS is only supported for a standalone URL)', () => {
    expect(() =>
      createRedisStore({
        config: {
          cluster: { nodes: ['127.0.0.1:1'] },
          tlsCA: 'ca.pem',
          keyPrefix: 'kob:',
          connectTimeout: 1,
          commandTimeout: 1,
        },
        clock: systemClock,
      }),
    ).toThrow(/store\.redis\.tlsCA/);
  });
});
