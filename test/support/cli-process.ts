// The kdnet CLI from the TypeScript sources in a child process (through tsx), for tests that must see
// everything the process prints, including what libraries write straight to stdout/stderr.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { projectRoot } from './shared.js';

export const projectRequire = createRequire(path.join(projectRoot, 'package.json'));

const tsxLoader = ['--import', pathToFileURL(projectRequire.resolve('tsx')).href];

/** `node` arguments that run the CLI from source; tsx's loader by absolute URL, as `--import tsx` would
 * resolve from the child's working directory. */
export const cliFromSource = [...tsxLoader, path.join(projectRoot, 'test', 'support', 'cli-entry.ts')];

export interface ProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `node ARGS` in a child process, with `env` added to this process's environment. */
function runNode(args: string[], cwd: string, env: NodeJS.ProcessEnv | undefined): ProcessResult {
  const r = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', timeout: 300_000, env: env && { ...process.env, ...env } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function runCliProcess(argv: string[], cwd = projectRoot, env?: NodeJS.ProcessEnv): ProcessResult {
  return runNode([...cliFromSource, ...argv], cwd, env);
}

/** test/support/SCRIPT run from source (through tsx) in a child process, with `env` added. */
export function runSupportScript(script: string, env?: NodeJS.ProcessEnv): ProcessResult {
  return runNode([...tsxLoader, path.join(projectRoot, 'test', 'support', script)], projectRoot, env);
}

/** The last line a child process printed, parsed as JSON. */
export function lastJsonLine<T>(stdout: string): T {
  return JSON.parse(stdout.trim().split('\n').pop()!) as T;
}
