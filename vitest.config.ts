import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

// Every temporary file the tests (and the processes they start) make goes under one folder of this run,
// which test/support/global-setup.ts removes at the end: the suite leaves nothing in the system's /tmp.
// Writable by everyone with the sticky bit, as /tmp is: a test runs the CLI as an unprivileged user.
const testTmp = (process.env.KDNET_TEST_TMP ??= fs.mkdtempSync(path.join(os.tmpdir(), 'kdnet-tests-')));
fs.chmodSync(testTmp, 0o1777);

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Test files run two at a time on two cores: one native-kernel thread each, or OpenMP's barriers stall.
    env: { OMP_NUM_THREADS: '1', TMPDIR: testTmp },
    globalSetup: ['./test/support/global-setup.ts'],
    reporters: ['default', './test/support/count-reporter.ts'],
  },
});
