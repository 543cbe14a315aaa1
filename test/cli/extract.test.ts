// kdnet extract and kdnet extract merge through the CLI: outputs db-info reads, Caffe-style flags, one-line
// errors for bad input (exit 1, no stack), --force, --help, and Ctrl-C leaving nothing half-written.
import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { runCli } from '../../src/cli/main.js';
import { bufferIO } from '../../src/cli/io.js';
import { initBackend } from '../../src/backend/select.js';
import { readDbMeta } from '../../src/distill/metadata.js';
import { pixels, tempDir, writeDatums } from '../support/data.js';
import { projectRoot } from '../support/shared.js';
import { teacherText, writeSource, writeTeacherWeights } from '../support/teacher.js';

const dir = tempDir('kdnet-extract-cli-');
const source = path.join(dir, 'src_lmdb');
const teacher = path.join(dir, 'teacher.prototxt');
const w1 = path.join(dir, 'w1.caffemodel');
const w2 = path.join(dir, 'w2.caffemodel');

async function run(...argv: string[]) {
  const io = bufferIO();
  const code = await runCli(argv, io);
  return { code, ...io };
}

/** A user error: exit 1, the one message, no stack trace, no internal error. */
async function refused(message: string | RegExp, ...argv: string[]) {
  const r = await run(...argv);
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr).toMatch(typeof message === 'string' ? new RegExp(`^error: .*${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm') : message);
  expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  return r;
}

const teacherFlags = () => ['--model', teacher, '--weights', w1, '--backend', 'cpu'];

beforeAll(async () => {
  await initBackend('cpu', true);
  await writeSource(source, 'lmdb');
  fs.writeFileSync(teacher, teacherText(source, 'LMDB'));
  writeTeacherWeights(w1, 1);
  writeTeacherWeights(w2, 2);
});

describe('kdnet extract', () => {
  it('writes soft targets that db-info reads: 10 float_data records of 3 values, the source\'s labels', async () => {
    const out = path.join(dir, 'soft_lmdb');
    const r = await run('extract', ...teacherFlags(), '--blob', 'fc', '--temperature', '2', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`wrote 10 records of 3 values (softmax(z/T) at T = 2) to ${out}\n`);
    expect(r.stderr).toMatch(/Extracting softmax\(z\/T\) at T = 2 of blob 'fc' from 1 teacher for records \[0, 10\) of 10 \(shard 0\/1\) of LMDB /);
    const info = await run('db-info', out);
    expect(info.code, info.stderr).toBe(0);
    expect(info.stdout).toContain(`${out}: lmdb, 10 records\nfirst keys: 00000000, 00000001, 00000002, 00000003, 00000004\ndatum shape: 3×1×1 (float_data)\n`);
    expect(info.stdout).toMatch(/^0\s+4\n1\s+3\n2\s+3\n$/m);
  });

  it('Caffe-style flags, --ensemble, LevelDB output', async () => {
    const out = path.join(dir, 'ensemble_leveldb');
    const r = await run('extract', '-model', teacher, '--ensemble', `${w1},${w2}`, '-blob', 'fc', '--logits', '-out', out, '--format', 'leveldb', '--backend', 'cpu');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`wrote 10 records of 3 values (logits) to ${out}\n`);
    expect(readDbMeta(out)!.teachers).toEqual([
      { model: teacher, weights: [w1] },
      { model: teacher, weights: [w2] },
    ]);
    expect((await run('db-info', out)).stdout).toContain(`${out}: leveldb, 10 records`);
  });

  it('--shard i/N, then extract merge (with --source)', async () => {
    const parts = [0, 1, 2].map((i) => path.join(dir, `part${i}_lmdb`));
    for (const [i, p] of parts.entries()) {
      const r = await run('extract', ...teacherFlags(), '--blob', 'fc', '--out', p, '--shard', `${i}/3`);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`\\(shard ${i}/3: records \\[${[0, 3, 6][i]}, ${[3, 6, 10][i]}\\) of 10\\)\\n$`));
    }
    const merged = path.join(dir, 'merged_lmdb');
    const m = await run('extract', 'merge', ...parts, '--out', merged, '--source', source);
    expect(m.code, m.stderr).toBe(0);
    expect(m.stdout).toBe(`merged 3 shards: 10 records of 3 values (softmax(z/T) at T = 1) to ${merged}\n`);
    await refused(`shard 1/3 of 3 is missing`, 'extract', 'merge', parts[0]!, parts[2]!, '--out', path.join(dir, 'never_lmdb'));
    await refused(`shard 2/3 is given twice: ${parts[2]} and ${parts[2]}`, 'extract', 'merge', ...parts, parts[2]!, '--out', path.join(dir, 'never_lmdb'));
    expect(fs.existsSync(path.join(dir, 'never_lmdb'))).toBe(false);
  });

  it('bad input: one clear error each, nothing written', async () => {
    const out = path.join(dir, 'bad_out_lmdb');
    const missing = await refused(`no blob 'fc9'`, 'extract', ...teacherFlags(), '--blob', 'fc9', '--out', out);
    expect(missing.stderr).toMatch(new RegExp(`^error: ${teacher}\\s\\(TEST\\): no blob 'fc9' \\(did you mean 'fc'\\?\\)\\n$`, 'm'));
    const notVector = await refused(`shape 4×1×3×3, but soft targets need one vector per record, N×D or N×D×1×1 (N = batch_size 4)`, 'extract', ...teacherFlags(), '--blob', 'data', '--out', out);
    // Positioned at the top of the TEST data layer (line 4 of the net).
    expect(notVector.stderr).toContain(`error: ${teacher}:4:35: layer "data": blob "data": shape 4×1×3×3`);
    await refused('--temperature must be a positive number, got 0', 'extract', ...teacherFlags(), '--blob', 'fc', '--temperature', '0', '--out', out);
    await refused('--temperature must be a positive number, got -2', 'extract', ...teacherFlags(), '--blob', 'fc', '--temperature=-2', '--out', out);
    await refused('give --temperature or --logits, not both', 'extract', ...teacherFlags(), '--blob', 'fc', '--temperature', '2', '--logits', '--out', out);
    await refused('--shard 3/3: shard indices run from 0 to 2', 'extract', ...teacherFlags(), '--blob', 'fc', '--shard', '3/3', '--out', out);
    await refused('kdnet extract needs --model, --blob and --out', 'extract', ...teacherFlags(), '--blob', 'fc');
    await refused('--ensemble takes one --model and no --weights', 'extract', ...teacherFlags(), '--ensemble', `${w1},${w2}`, '--blob', 'fc', '--out', out);
    await refused("unknown output format 'h5'", 'extract', ...teacherFlags(), '--blob', 'fc', '--format', 'h5', '--out', out);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('bad_out'))).toEqual([]);
  });

  it('a source record that cannot be read: one error naming the database and key', async () => {
    const bad = path.join(dir, 'bad_src_lmdb');
    await writeDatums(bad, 'lmdb', [
      ...Array.from({ length: 5 }, (_, i) => ({ channels: 1, height: 5, width: 5, data: pixels(i, 1, 5, 5) })),
      { channels: 1, height: 5, width: 5, data: Uint8Array.of(7) },
    ]);
    const badTeacher = path.join(dir, 'bad_teacher.prototxt');
    fs.writeFileSync(badTeacher, teacherText(bad, 'LMDB'));
    const out = path.join(dir, 'from_bad_lmdb');
    await refused(`${bad}: record '00000005': Datum holds 1 bytes but its shape 1×5×5 needs 25`, 'extract', '--model', badTeacher, '--weights', w1, '--blob', 'fc', '--out', out, '--backend', 'cpu');
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('from_bad'))).toEqual([]);
  });

  it('refuses an existing output unless --force, which replaces it once complete', async () => {
    const out = path.join(dir, 'forced_lmdb');
    expect((await run('extract', ...teacherFlags(), '--blob', 'fc', '--out', out)).code).toBe(0);
    await refused(`${out} already exists (use --force to replace it once the new one is complete)`, 'extract', ...teacherFlags(), '--blob', 'fc', '--logits', '--out', out);
    expect(readDbMeta(out)!.values).toEqual({ kind: 'softmax', temperature: 1 });
    const r = await run('extract', ...teacherFlags(), '--blob', 'fc', '--logits', '--out', out, '--force');
    expect(r.code, r.stderr).toBe(0);
    expect(readDbMeta(out)!.values).toEqual({ kind: 'logits' });
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('forced_lmdb.'))).toEqual([]);
  });

  it('--help for extract and extract merge', async () => {
    const h = await run('extract', '--help');
    expect(h.code).toBe(0);
    for (const flag of ['--model <net>', '--weights <files>', '--ensemble <files>', '--blob <name>', '--temperature <T>', '--logits', '--out <path>', '--format <name>', '--phase <phase>', '--shard <i/N>', '--force', 'merge [options] <shards...>']) {
      expect(h.stdout).toContain(flag);
    }
    const m = await run('extract', 'merge', '--help');
    expect(m.code).toBe(0);
    for (const flag of ['Usage: kdnet extract merge [options] <shards...>', '--out <path>', '--source <db>', '--format <name>', '--force']) expect(m.stdout).toContain(flag);
  });
});

const bin = path.join(projectRoot, 'bin', 'kdnet.js');
const built = fs.existsSync(path.join(projectRoot, 'dist', 'cli', 'extract.js'));

describe.skipIf(!built)('kdnet extract under Ctrl-C', () => {
  it('stops, exits 130 and leaves no output and no temporary files', async () => {
    const big = path.join(dir, 'big_lmdb');
    await writeSource(big, 'lmdb', 20000);
    const bigTeacher = path.join(dir, 'big_teacher.prototxt');
    fs.writeFileSync(bigTeacher, teacherText(big, 'LMDB', 1));
    const out = path.join(dir, 'interrupted_lmdb');
    const child = spawn(process.execPath, [bin, 'extract', '--model', bigTeacher, '--weights', w1, '--blob', 'fc', '--out', out, '--backend', 'cpu'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d;
      if (/Extracting /.test(err) && !child.killed) setTimeout(() => child.kill('SIGINT'), 200);
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, err).toBe(130);
    expect(err).toContain(`interrupted: nothing was written to ${out}`);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('interrupted_lmdb'))).toEqual([]);
  });
});
