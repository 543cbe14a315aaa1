#!/usr/bin/env node
import { runCli } from '../dist/cli/main.js';

// A reader that stops early (`kdnet check net.prototxt | head`) closes the pipe: stop quietly, as Unix tools do.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

process.exitCode = await runCli(process.argv.slice(2));
