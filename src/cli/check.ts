import type { Command } from 'commander';
import { addLayersPathOption } from './layers-path.js';
import { portLabel } from '../layers/python/check-ports.js';
import { checkFile, checkError, type CheckReport } from '../net/check.js';
import { parsePhase } from '../net/net-state.js';
import type { CliIO } from './io.js';
import { formatTable } from '../util/text-table.js';
import { initBackend } from '../backend/select.js';
import { parseInputShapes } from './args.js';

export function formatCheckReport(r: CheckReport): string {
  let out = `${r.file}: ${r.kind === 'NetParameter' ? `net "${r.name}", ${r.format} format` : 'solver'}\n`;
  out += `upgrades: ${r.upgrades.length ? r.upgrades.join(', ') : 'none needed'}\n`;
  for (const w of r.warnings) out += `warning: ${w}\n`;
  if (r.kind === 'SolverParameter') {
    out += formatTable(['field', 'value'], r.summary);
    return out;
  }
  out += `${r.layers.length} layers\n`;
  out += formatTable(
    ['#', 'name', 'type', 'bottoms', 'tops', 'phase', 'top shapes', 'params', 'MFLOPs'],
    r.layers.map((l) => [
      String(l.index),
      l.name,
      l.jsPort ? portLabel(l.jsPort) : l.known ? (l.runnable ? l.type : `${l.type} (kdnet cannot run)`) : `${l.type} (not in Caffe master)`,
      l.bottoms.join(',') || '-',
      l.tops.join(',') || '-',
      l.phases,
      l.topShapes.map((s) => (s ? s.join('x') : '?')).join(' ') || '-',
      l.params ? String(l.params) : '-',
      l.flops === undefined ? '?' : (l.flops / 1e6).toFixed(3),
    ]),
  );
  for (const t of r.totals) {
    out += `${t.phase}: ${t.params} parameters, ${(t.flops / 1e6).toFixed(3)} MFLOPs per forward${t.complete ? '' : ' (over the layers with known shapes; give unknown data shapes with --input-shape BLOB=N,C,H,W)'}\n`;
  }
  return out;
}

export function registerCheck(program: Command, io: CliIO, setExit: (code: number) => void): void {
  addLayersPathOption(program.command('check'))
    .description('parse, upgrade and filter a net or solver file and print what it holds (static: opens nothing else)')
    .argument('<file>', 'net or solver .prototxt')
    .option('--phase <phase>', 'show only the layers of TRAIN or TEST')
    .option('--level <n>', 'NetState level used for include/exclude rules (default 0)')
    .option('--stage <stage...>', 'NetState stages used for include/exclude rules')
    .option('--input-shape <blob=dims...>', 'shape of a blob kdnet cannot know statically, e.g. data=64,1,28,28')
    .option('--solver', 'read the file as a SolverParameter (default: detected)')
    .option('--net', 'read the file as a NetParameter (default: detected)')
    .action(async (file: string, o: { phase?: string; level?: string; stage?: string[]; solver?: boolean; net?: boolean; inputShape?: string[]; layersPath?: string[] }) => {
      const kind = o.solver ? 'SolverParameter' : o.net ? 'NetParameter' : undefined;
      await initBackend('cpu', true); // shape inference only: the cheapest backend
      const report = checkFile(
        file,
        { phase: o.phase ? parsePhase(o.phase) : undefined, level: o.level === undefined ? undefined : Number(o.level), stage: o.stage, inputShapes: parseInputShapes(o.inputShape ?? []), layersPath: o.layersPath },
        kind,
      );
      io.out(formatCheckReport(report));
      if (report.kind === 'NetParameter') {
        const err = checkError(report);
        if (err) throw err;
      }
      setExit(0);
    });
}
