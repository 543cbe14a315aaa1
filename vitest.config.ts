import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Test files run two at a time on two cores: one native-kernel thread each, or OpenMP's barriers stall.
    env: { OMP_NUM_THREADS: '1' },
    reporters: ['default', './test/support/count-reporter.ts'],
  },
});
