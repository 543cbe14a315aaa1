// The `kdnet` command: parses flags and calls the library. Exit codes: 0 ok, 1 user error, 2 internal error.
import { Command, CommanderError } from 'commander';
import { isKdnetError } from '../errors.js';
import { normalizeCaffeFlags } from './args.js';
import { processIO, type CliIO } from './io.js';
import { registerCheck } from './check.js';
import { registerUpgrade } from './upgrade.js';
import { registerForward } from './forward.js';
import { registerTrain } from './train.js';
import { registerTestTime } from './test-time.js';
import { registerPlot } from './plot.js';
import { registerData } from './data.js';
import { registerConvertWeights } from './convert-weights.js';
import { registerDbTools } from './db-tools.js';
import { registerExtract } from './extract.js';
import { registerDistill } from './distill.js';
import { registerDraw } from './draw.js';
import { registerDemo } from './demo.js';
import { setLogSink, prefix, type LogSink } from '../log.js';

export const VERSION = '0.1.0';

export async function runCli(argv: string[], io: CliIO = processIO): Promise<number> {
  let exitCode = 0;
  const program = new Command('kdnet')
    .description('Caffe prototxt interpreter and training runtime on TensorFlow.js, built for knowledge distillation')
    .version(VERSION)
    .exitOverride()
    // A subcommand's options after its own subcommand belong to that one (`extract merge ... --out X`).
    .enablePositionalOptions()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  const setExit = (c: number) => {
    exitCode = c;
  };
  registerCheck(program, io, setExit);
  registerUpgrade(program, io);
  registerForward(program, io);
  registerTrain(program, io);
  registerTestTime(program, io);
  registerPlot(program, io);
  registerData(program, io);
  registerConvertWeights(program, io);
  registerDbTools(program, io);
  registerExtract(program, io, setExit);
  registerDistill(program, io);
  registerDraw(program, io);
  registerDemo(program, io);

  // Log lines go to the CLI's error stream with glog's prefix (Caffe logs to stderr too), so stdout stays
  // the command's output and Caffe's log parsers read kdnet's logs.
  const previous: LogSink = setLogSink((level, m) => io.err(m.split('\n').map((line) => `${prefix(level)} ${line}\n`).join('')));
  try {
    await program.parseAsync(normalizeCaffeFlags(argv), { from: 'user' });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here with code 0; usage errors with 1.
      return e.exitCode === 0 ? 0 : 1;
    }
    if (isKdnetError(e)) {
      io.err(`error: ${e.report()}\n`);
      return 1;
    }
    io.err(`internal error (a bug in kdnet, please report it):\n${(e as Error)?.stack ?? String(e)}\n`);
    return 2;
  } finally {
    setLogSink(previous);
  }
}
