// Plain-text tables for the terminal (the layer table, db-info, the demo's results).

/** Columns padded to their widest cell (left-aligned; indices in `right` right-aligned), two spaces apart. */
export function formatTable(header: string[], rows: string[][], right: ReadonlySet<number> = new Set()): string {
  // A loop, not Math.max(...column): spreading 150,000 rows into arguments overflows the stack.
  const widths = header.map((h) => h.length);
  for (const r of rows) widths.forEach((w, i) => (widths[i] = Math.max(w, (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}
