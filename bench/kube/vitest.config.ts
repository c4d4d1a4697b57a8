import { defineConfig } from 'vitest/config';

/** `npm run bench:kube`: the webhook timelines on a real kube-apiserver with its default flags (minutes). */
export default defineConfig({
  test: {
    include: ['bench/kube/*.measure.ts'],
    testTimeout: 600_000,
    hookTimeout: 300_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
