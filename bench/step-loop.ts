// A steady-state loop of Solver.step(1) on one timing net (../shared/fixtures/timing), for timing and for
// `node --cpu-prof` (see bench/README.md): `npx tsx bench/step-loop.ts [NET] [ITERATIONS] [--ab VAR] [--type SOLVER]`.
// With --ab VAR, steps alternate between VAR=0 and VAR unset (e.g. KDNET_FUSED_UPDATE): both medians come from
// the same minute, interleaved, which is the only fair comparison on a shared machine.
import os from 'node:os';
import { initBackend } from '../dist/backend/select.js';
import { takeOption, timingSolver } from './timing-solver.js';
import { median } from './peer-bench.js';
import { setLogSink } from '../dist/log.js';

const args = process.argv.slice(2);
const abVar = takeOption(args, '--ab');
const type = takeOption(args, '--type') ?? 'SGD';
const net = args[0] ?? 'lenet_b64';
const iterations = Number(args[1] ?? 100);

setLogSink(() => {});
await initBackend('wasm', true);
const solver = await timingSolver(net, type);
const times: Record<string, number[]> = { on: [], off: [] };
// The steady-state window in the CPU profile's clock (µs), for filtering its samples.
const windowStart = process.hrtime.bigint() / 1000n;
for (let i = 0; i < iterations; i++) {
  const off = abVar !== undefined && i % 2 === 1;
  if (abVar) off ? (process.env[abVar] = '0') : delete process.env[abVar];
  const t0 = performance.now();
  await solver.step(1);
  times[off ? 'off' : 'on']!.push(performance.now() - t0);
}
const windowEnd = process.hrtime.bigint() / 1000n;
const load = os.loadavg().map((l) => l.toFixed(1)).join(' ');
if (abVar) {
  console.log(`${net}, ${type}: Solver.step(1) median ${median(times.on!).toFixed(1)} ms with ${abVar} unset, ${median(times.off!).toFixed(1)} ms with ${abVar}=0 (${iterations} steps interleaved; load average ${load})`);
} else {
  console.log(`${net}, ${type}: Solver.step(1) median ${median(times.on!).toFixed(1)} ms over ${iterations} (load average ${load}; profile window ${windowStart}-${windowEnd} µs)`);
}
solver.dispose();
