// A net as a Graphviz DOT graph, drawn the way Caffe's python/draw_net.py (caffe/draw.py) draws it: layers
// are filled records labelled "name (type)" plus their key parameters, blobs are octagons, edges run
// bottom → layer → top (an in-place layer reads and writes the same blob node), and top edges carry the batch
// size or num_output. On top of Caffe's drawing, the layers of a distillation net are filled by role
// (teacher, student, loss, hint adapter) with a legend. Rendering to SVG is in render-svg.ts.
import { caffeEnum, has, type Message } from '../proto/schema.js';
import { KdnetError } from '../errors.js';
import { filterNet, composeState } from './net-state.js';
import { layerRoles, type LayerRole } from './draw-roles.js';

export const RANKDIRS = ['LR', 'TB', 'BT', 'RL'] as const;
export type Rankdir = (typeof RANKDIRS)[number];

export interface DrawOptions {
  /** Graph direction; Caffe's default is LR. */
  rankdir?: Rankdir;
  /** Only the layers of this phase (Phase.TRAIN / Phase.TEST); every layer when unset, as draw_net.py's ALL. */
  phase?: number;
  /** The net's file, for error messages. */
  file?: string;
}

export function parseRankdir(s: string): Rankdir {
  const up = s.toUpperCase();
  if ((RANKDIRS as readonly string[]).includes(up)) return up as Rankdir;
  throw new KdnetError(`unknown --rankdir '${s}' (expected ${RANKDIRS.join(', ')})`);
}

// caffe/draw.py's palette: by layer type, in-place neurons green, blobs grey.
const CAFFE_DEFAULT = '#6495ED';
const CAFFE_NEURON = '#90EE90';
const BLOB_FILL = '#E0E0E0';
const CAFFE_TYPE_FILL: Record<string, string> = { Convolution: '#FF5050', Deconvolution: '#FF5050', Pooling: '#FF9900', InnerProduct: '#CC33FF' };

/** Role fills, chosen apart from Caffe's type palette so the legend is unambiguous. */
export const ROLE_FILL: Record<Exclude<LayerRole, 'other'>, string> = {
  teacher: '#F0E68C',
  student: '#87CEFA',
  loss: '#FA8072',
  hint: '#DDA0DD',
};
const ROLE_LEGEND: Record<Exclude<LayerRole, 'other'>, string> = {
  teacher: 'teacher (frozen)',
  student: 'student',
  loss: 'loss',
  hint: 'hint adapter',
};

function quote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** A record label: quoted, with the characters that split records into fields escaped. */
function recordLabel(s: string): string {
  return quote(s).replace(/[{}|<>]/g, '\\$&');
}

/** The first value of a repeated size field, its scalar _h form, or the default (as draw.py's get_layer_label). */
function firstOf(p: Message, field: string, hField: string, fallback: number): number {
  const v = p[field];
  if (Array.isArray(v)) return v.length ? v[0] : has(p, hField) ? p[hField] : fallback;
  return has(p, field) ? v : has(p, hField) ? p[hField] : fallback;
}

function layerLabel(l: Message, separator: string): string {
  const parts = [l.name as string, `(${l.type})`];
  if ((l.type === 'Convolution' || l.type === 'Deconvolution') && l.convolution_param) {
    const p = l.convolution_param as Message;
    parts.push(`kernel size: ${firstOf(p, 'kernel_size', 'kernel_h', 1)}`, `stride: ${firstOf(p, 'stride', 'stride_h', 1)}`, `pad: ${firstOf(p, 'pad', 'pad_h', 0)}`);
  } else if (l.type === 'Pooling' && l.pooling_param) {
    const p = l.pooling_param as Message;
    const pool = caffeEnum('PoolingParameter.PoolMethod').valuesById[p.pool as number] ?? String(p.pool);
    parts.push(`pool type: ${pool}`, `kernel size: ${firstOf(p, 'kernel_size', 'kernel_h', 1)}`, `stride: ${firstOf(p, 'stride', 'stride_h', 1)}`, `pad: ${firstOf(p, 'pad', 'pad_h', 0)}`);
  }
  return parts.join(separator);
}

/** draw.py's get_edge_label: what a layer's top edges say. */
function topEdgeLabel(l: Message): string {
  if (l.type === 'Data' && l.data_param) return `Batch ${(l.data_param as Message).batch_size}`;
  if ((l.type === 'Convolution' || l.type === 'Deconvolution') && l.convolution_param) return String((l.convolution_param as Message).num_output);
  if (l.type === 'InnerProduct' && l.inner_product_param) return String((l.inner_product_param as Message).num_output);
  return '';
}

function isInPlace(l: Message): boolean {
  const b = l.bottom as string[];
  const t = l.top as string[];
  return b.length === 1 && t.length === 1 && b[0] === t[0];
}

export interface NetGraph {
  dot: string;
  /** Node id of each drawn layer, in order, and its role. */
  layers: Array<{ id: string; name: string; type: string; role: LayerRole }>;
  /** Blob names, one node each. */
  blobs: string[];
}

/** The DOT text of an upgraded net (loadNetFile's message). */
export function netToDot(net: Message, o: DrawOptions = {}): NetGraph {
  const rankdir = o.rankdir ?? 'LR';
  const roles = layerRoles(net, o.file ?? '<net>');
  const shown = o.phase === undefined ? net : filterNet(net, composeState(net.state as Message | undefined, { phase: o.phase }));
  const separator = rankdir === 'TB' || rankdir === 'BT' ? ' ' : '\n';
  const lines = [`digraph ${quote((net.name as string) || 'Net')} {`, `  rankdir=${rankdir};`];
  const layers: NetGraph['layers'] = [];
  const blobs: string[] = [];
  const edges: string[] = [];
  const blobId = (b: string) => quote(`blob:${b}`);
  const addBlob = (b: string) => {
    if (blobs.includes(b)) return;
    blobs.push(b);
    lines.push(`  ${blobId(b)} [label=${quote(b)} shape=octagon style=filled fillcolor="${BLOB_FILL}" class="blob"];`);
  };

  for (const [i, l] of (shown.layer as Message[]).entries()) {
    const id = `layer${i}`;
    const role = roles.get(l) ?? 'other';
    const fill = role !== 'other' ? ROLE_FILL[role] : isInPlace(l) ? CAFFE_NEURON : (CAFFE_TYPE_FILL[l.type] ?? CAFFE_DEFAULT);
    layers.push({ id, name: l.name, type: l.type, role });
    lines.push(`  ${id} [label=${recordLabel(layerLabel(l, separator))} shape=record style=filled fillcolor="${fill}" class="layer ${role}"];`);
    for (const b of l.bottom as string[]) {
      addBlob(b);
      edges.push(`  ${blobId(b)} -> ${id};`);
    }
    const label = topEdgeLabel(l);
    for (const t of l.top as string[]) {
      addBlob(t);
      edges.push(`  ${id} -> ${blobId(t)}${label ? ` [label=${quote(label)}]` : ''};`);
    }
  }
  lines.push(...edges);

  const present = (Object.keys(ROLE_FILL) as Array<keyof typeof ROLE_FILL>).filter((r) => layers.some((l) => l.role === r));
  if (present.length) {
    lines.push('  subgraph cluster_legend {', '    label="legend";');
    for (const r of present) lines.push(`    legend_${r} [label=${quote(ROLE_LEGEND[r])} shape=box style=filled fillcolor="${ROLE_FILL[r]}" class="legend"];`);
    lines.push('  }');
  }
  lines.push('}');
  return { dot: `${lines.join('\n')}\n`, layers, blobs };
}
