// Entry point of runCliProcess: `node --import tsx test/support/cli-entry.ts ARGS` runs kdnet from source.
import { runCli } from '../../src/cli/main.js';

process.exitCode = await runCli(process.argv.slice(2));
