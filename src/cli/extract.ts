// kdnet extract (soft targets from a teacher) and kdnet extract merge (joining its shards).
import type { Command } from 'commander';
import { extractSoftTargets } from '../distill/extract.js';
import { mergeShards } from '../distill/merge.js';
import { parseShard, shardText } from '../distill/shard.js';
import { parseTargetFormat } from '../distill/target-writer.js';
import { targetKindText, type ExtractMeta } from '../distill/metadata.js';
import type { TeacherSpec } from '../distill/teacher.js';
import { parsePhase } from '../net/net-state.js';
import { initBackend } from '../backend/select.js';
import { applyThreadsFlag, THREADS_HELP } from './args.js';
import { KdnetError, isKdnetError } from '../errors.js';
import { log } from '../log.js';
import { progressReporter } from './progress.js';
import type { CliIO } from './io.js';

const collect = (value: string, previous: string[]) => [...previous, value];
const list = (v: string) => v.split(',').filter(Boolean);

interface ExtractFlags {
  model: string[];
  weights: string[];
  ensemble?: string;
  blob?: string;
  temperature?: string;
  logits?: boolean;
  out?: string;
  format?: string;
  phase: string;
  shard?: string;
  force?: boolean;
  backend?: string;
  threads?: string;
}

/** --model/--weights pairs, or one --model with --ensemble weight files (one teacher each). */
export function teachersFromFlags(o: Pick<ExtractFlags, 'model' | 'weights' | 'ensemble'>): TeacherSpec[] {
  if (!o.model.length) throw new KdnetError('kdnet extract needs --model (the teacher net)');
  if (o.ensemble !== undefined) {
    if (o.model.length !== 1 || o.weights.length) throw new KdnetError('--ensemble takes one --model and no --weights: each of its files is one teacher');
    return list(o.ensemble).map((w) => ({ model: o.model[0]!, weights: [w] }));
  }
  if (o.weights.length > o.model.length || (o.model.length > 1 && o.weights.length !== o.model.length)) {
    throw new KdnetError(`${o.model.length} --model and ${o.weights.length} --weights: give one --weights per --model, in the same order`);
  }
  if (!o.weights.length) log.warn('no --weights: the teacher keeps the random values of its fillers');
  return o.model.map((model, i) => ({ model, weights: list(o.weights[i] ?? '') }));
}

function summary(meta: ExtractMeta, out: string): string {
  const n = meta.records.end - meta.records.start;
  const shard = meta.shard.count > 1 ? ` (shard ${shardText(meta.shard)}: records [${meta.records.start}, ${meta.records.end}) of ${meta.records.total})` : '';
  return `wrote ${n} records of ${meta.dim ?? 0} values (${targetKindText(meta.values)}) to ${out}${shard}\n`;
}

/**
 * Runs `job` with a progress bar on a terminal and Ctrl-C turned into an abort (exit 130, nothing written);
 * prints what the job returns once the bar is gone.
 */
async function interruptible(task: string, io: CliIO, setExit: (code: number) => void, job: (signal: AbortSignal, progress: (done: number, total: number) => void) => Promise<string>): Promise<void> {
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.on('SIGINT', onSigint);
  const bar = progressReporter(process.stderr, task, 'records');
  let result: string;
  try {
    result = await job(controller.signal, (done, total) => bar.update(done, total));
  } catch (e) {
    if (!controller.signal.aborted || !isKdnetError(e)) throw e;
    result = '';
    io.err(`${e.message}\n`);
    setExit(130);
  } finally {
    bar.stop();
    process.off('SIGINT', onSigint);
  }
  io.out(result);
}

export function registerExtract(program: Command, io: CliIO, setExit: (code: number) => void): void {
  const extract = program
    .command('extract')
    // `extract merge ... --out X`: the --out after `merge` is merge's, not extract's (the root does the same).
    .enablePositionalOptions()
    .description("soft targets from a teacher: run it once over its data layer's records and write softmax(z/T) (or the logits) of a blob per record, under the record's key")
    .option('--model <net>', 'teacher net .prototxt reading a Data (LMDB/LevelDB), ImageData or HDF5Data layer; repeat for an ensemble of nets', collect, [])
    .option('--weights <files>', 'comma-separated .caffemodel files copied into the teacher in order; repeat once per --model', collect, [])
    .option('--ensemble <files>', 'comma-separated .caffemodel files, each one teacher with the one --model; their logits are averaged')
    .option('--blob <name>', 'the logits blob, N×D or N×D×1×1 (e.g. fc8)')
    .option('--temperature <T>', 'write softmax(z/T) (default T = 1)')
    .option('--logits', 'write the logits z themselves (an ensemble: their mean)')
    .option('--out <path>', 'database or .h5 file to create')
    .option('--format <name>', 'lmdb, leveldb or hdf5 (default: hdf5 for a .h5/.hdf5 name, else lmdb)')
    .option('--phase <phase>', "TRAIN or TEST: whose layers, data layer included, to use; they always compute and transform as in TEST", 'TEST')
    .option('--shard <i/N>', 'only the i-th (from 0) of N contiguous ranges of records; join the N outputs with `kdnet extract merge`')
    .option('--force', 'replace an existing output, once the new one is complete')
    .option('--backend <name>', 'tensorflow, wasm or cpu (default: best present)')
    .option('--threads <n>', THREADS_HELP)
    .action(async (o: ExtractFlags) => {
      if (!o.blob || !o.out) throw new KdnetError('kdnet extract needs --model, --blob and --out (see kdnet extract --help)');
      const teachers = teachersFromFlags(o);
      const options = {
        teachers,
        blob: o.blob,
        out: o.out,
        temperature: o.temperature === undefined ? undefined : Number(o.temperature),
        logits: o.logits === true,
        format: o.format ? parseTargetFormat(o.format) : undefined,
        phase: parsePhase(o.phase),
        shard: o.shard ? parseShard(o.shard) : undefined,
        force: o.force === true,
      };
      applyThreadsFlag(o.threads);
      await initBackend(o.backend);
      await interruptible('extract', io, setExit, async (signal, progress) => {
        const r = await extractSoftTargets({ ...options, signal, progress });
        return summary(r.meta, r.out);
      });
    });

  extract
    .command('merge')
    .description('join the outputs of `kdnet extract --shard i/N` into one set, refusing a missing or duplicated shard or key')
    .argument('<shards...>', 'the shards\' outputs, in any order')
    .option('--out <path>', 'database or .h5 file to create')
    .option('--format <name>', 'lmdb, leveldb or hdf5 (default: hdf5 for a .h5/.hdf5 name, else lmdb)')
    .option('--source <db>', "the source LMDB/LevelDB: also check the merged keys are exactly its keys, in its order")
    .option('--force', 'replace an existing output, once the new one is complete')
    .action(async (shards: string[], o: { out?: string; format?: string; source?: string; force?: boolean }) => {
      if (!o.out) throw new KdnetError('kdnet extract merge needs --out (see kdnet extract merge --help)');
      const options = { inputs: shards, out: o.out, format: o.format ? parseTargetFormat(o.format) : undefined, source: o.source, force: o.force === true };
      await interruptible('merge', io, setExit, async (signal, progress) => {
        const r = await mergeShards({ ...options, signal, progress });
        return summary(r.meta, r.out).replace('wrote', `merged ${shards.length} shard${shards.length > 1 ? 's' : ''}:`);
      });
    });
}
