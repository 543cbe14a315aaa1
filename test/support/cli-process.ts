// The kdnet CLI from the TypeScript sources in a child process (through tsx), for tests that must see
// everything the process prints, including what libraries write straight to stdout/stderr.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { projectRoot } from './shared.js';

export const projectRequire = createRequire(path.join(projectRoot, 'package.json'));

/** `node` arguments that run the CLI from source; tsx's loader by absolute URL, as `--import tsx` would
 * resolve from the child's working directory. */
export const cliFromSource = ['--import', pathToFileURL(projectRequire.resolve('tsx')).href, path.join(projectRoot, 'test', 'support', 'cli-entry.ts')];

export function runCliProcess(argv: string[], cwd = projectRoot, env?: NodeJS.ProcessEnv): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [...cliFromSource, ...argv], { cwd, encoding: 'utf8', timeout: 300_000, env: env && { ...process.env, ...env } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
