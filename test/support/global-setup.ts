// vitest's global set-up: removes the run's temporary folder (vitest.config.ts points TMPDIR at it) when the
// run ends, with whatever the tests and their child processes left there.
import fs from 'node:fs';

export function teardown(): void {
  const dir = process.env.KDNET_TEST_TMP;
  if (dir && /kdnet-tests-/.test(dir)) fs.rmSync(dir, { recursive: true, force: true });
}
