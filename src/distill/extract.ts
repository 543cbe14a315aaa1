// `kdnet extract`: runs one teacher (or an ensemble) once over every record of its data layer's source, or
// over one shard of it, and writes per record the softened probabilities softmax(z/T) of the chosen blob (or
// the raw logits) under the record's own key, in the source's order: the soft-target database the old
// two-database distillation recipe reads beside the images.
import path from 'node:path';
import { KdnetError } from '../errors.js';
import { log } from '../log.js';
import { Phase } from '../net/net-state.js';
import { transformBatch } from '../data/feed/batch.js';
import type { Progress } from '../data/tools/write-records.js';
import { checkShard, shardRange, shardText, WHOLE, type Shard } from './shard.js';
import { describeSource, openExtractSource, type SourceRecord, type SourceSpec } from './source.js';
import { planTeacher, TeacherNet, type TeacherPlan, type TeacherSpec } from './teacher.js';
import { accumulate, targetValues } from './soft-targets.js';
import { checkTargetPath, createTargetWriter, targetFormatFor, type TargetFormat, type TargetWriter } from './target-writer.js';
import { targetKindText, type ExtractMeta, type TargetKind } from './metadata.js';

export interface ExtractOptions {
  /** One teacher, or several whose logits are averaged. */
  teachers: TeacherSpec[];
  blob: string;
  out: string;
  /** Softmax temperature T (default 1). */
  temperature?: number;
  /** Store the (averaged) logits rather than softmax(z/T). */
  logits?: boolean;
  /** Default: HDF5 for a .h5/.hdf5 name, else LMDB. */
  format?: TargetFormat;
  /** Whose layers (data layer included) to use (default TEST); they always compute and transform as in TEST. */
  phase?: number;
  shard?: Shard;
  /** Replace an existing output, once the new one is complete. */
  force?: boolean;
  /** Stops between batches; nothing is left at `out`. */
  signal?: AbortSignal;
  progress?: Progress;
}

export interface ExtractResult {
  out: string;
  format: TargetFormat;
  meta: ExtractMeta;
}

export function targetKind(o: { temperature?: number; logits?: boolean }): TargetKind {
  if (o.logits && o.temperature !== undefined) throw new KdnetError('give --temperature or --logits, not both');
  if (o.logits) return { kind: 'logits' };
  const t = o.temperature ?? 1;
  if (!(t > 0) || !Number.isFinite(t)) throw new KdnetError(`--temperature must be a positive number, got ${t}`);
  return { kind: 'softmax', temperature: t };
}

/** Source specs compared with their paths made absolute. */
function sourceKey(spec: SourceSpec): string {
  return JSON.stringify(spec, (k, v) => (['path', 'listFile'].includes(k) && typeof v === 'string' ? path.resolve(v) : v));
}

function checkSameSource(plans: TeacherPlan[]): void {
  const [first, ...rest] = plans;
  rest.forEach((p, i) => {
    if (sourceKey(p.reading.spec) !== sourceKey(first!.reading.spec)) {
      throw new KdnetError(
        `teacher ${i + 2} (${p.spec.model}) reads ${describeSource(p.reading.spec)} but teacher 1 (${first!.spec.model}) reads ${describeSource(first!.reading.spec)}` +
          ' (or decodes it differently): an ensemble\'s teachers must read the same records; their transform_param may differ',
      );
    }
  });
}

export async function extractSoftTargets(o: ExtractOptions): Promise<ExtractResult> {
  const values = targetKind(o);
  const shard = o.shard ?? WHOLE;
  checkShard(shard);
  if (!o.teachers.length) throw new KdnetError('no teacher: give --model and --weights');
  const format = o.format ?? targetFormatFor(o.out);
  checkTargetPath(o.out, o.force === true);
  const phase = o.phase ?? Phase.TEST;
  const plans = o.teachers.map((t) => planTeacher(t, o.blob, phase));
  checkSameSource(plans);
  const source = await openExtractSource(plans[0]!.reading.spec);
  const nets: Array<TeacherNet | undefined> = plans.map(() => undefined);
  let writer: TargetWriter | undefined;
  const interrupted = () => new KdnetError(`interrupted: nothing was written to ${o.out}`);
  try {
    const total = await source.count();
    if (!total) throw new KdnetError(`${source.description}: the source is empty`);
    const { start, end } = shardRange(shard, total);
    log.info(
      `Extracting ${targetKindText(values)} of blob '${o.blob}' from ${plans.length} teacher${plans.length > 1 ? 's (mean of their logits)' : ''}` +
        ` for records [${start}, ${end}) of ${total} (shard ${shardText(shard)}) of ${source.description}`,
    );
    writer = await createTargetWriter(o.out, format, o.force === true);
    const temperature = values.kind === 'softmax' ? values.temperature : undefined;
    let dim: number | null = null;
    let done = 0;

    /** Runs every teacher over `chunk` and writes its records. */
    const writeChunk = async (chunk: SourceRecord[]): Promise<void> => {
      const pixels = await Promise.all(chunk.map((r) => r.pixels()));
      let sum: Float64Array | undefined;
      for (const [k, plan] of plans.entries()) {
        const size = plan.reading.batchSize;
        for (let s = 0; s < chunk.length; s += size) {
          const part = chunk.slice(s, s + size);
          const batch = transformBatch(part, pixels.slice(s, s + size), plan.transformer);
          const chw = batch.shape.slice(1);
          const net = (nets[k] ??= TeacherNet.build(plan, o.blob, chw, source.rowDims));
          if (chw.join(',') !== net.chw.join(',')) throw new KdnetError(`${part[0]!.where}: shape ${chw.join('×')} differs from ${net.chw.join('×')} of the first record`);
          if (net.dim !== nets[0]!.dim) {
            throw new KdnetError(`blob '${o.blob}' holds ${net.dim} values per record in ${plan.spec.model} but ${nets[0]!.dim} in ${plans[0]!.spec.model}: an ensemble's teachers must agree`);
          }
          sum ??= new Float64Array(chunk.length * net.dim);
          accumulate(sum, net.run(batch, part.length), s * net.dim);
        }
      }
      dim = nets[0]!.dim;
      const out = targetValues(sum!, plans.length, dim, temperature);
      for (const [i, r] of chunk.entries()) await writer!.put(r.key, r.label, out.subarray(i * dim, (i + 1) * dim));
      done += chunk.length;
      o.progress?.(done, end - start);
      // Let signals (Ctrl-C) through between batches.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (o.signal?.aborted) throw interrupted();
    };

    const chunkSize = Math.max(...plans.map((p) => p.reading.batchSize));
    let chunk: SourceRecord[] = [];
    if (o.signal?.aborted) throw interrupted();
    for await (const r of source.records(start, end)) {
      chunk.push(r);
      if (chunk.length === chunkSize) {
        await writeChunk(chunk);
        chunk = [];
      }
    }
    if (chunk.length) await writeChunk(chunk);
    if (done !== end - start) throw new KdnetError(`${source.description}: read ${done} records where ${end - start} were expected (did it change while extracting?)`);
    const meta: ExtractMeta = {
      kdnet_extract: 1,
      shard,
      records: { start, end, total },
      dim,
      values,
      blob: o.blob,
      teachers: o.teachers.map((t) => ({ model: t.model, weights: [...t.weights] })),
      source: source.description,
    };
    await writer.finish(meta);
    log.info(`Wrote ${done} records of ${dim ?? 0} values to ${o.out}`);
    return { out: o.out, format, meta };
  } catch (e) {
    await writer?.abort();
    throw e;
  } finally {
    for (const n of nets) n?.dispose();
    await source.close();
  }
}
