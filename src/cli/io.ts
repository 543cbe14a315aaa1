// Where CLI output goes: process streams by default, captured buffers in tests.
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
}

export const processIO: CliIO = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

export function bufferIO(): CliIO & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    out(t: string) {
      io.stdout += t;
    },
    err(t: string) {
      io.stderr += t;
    },
  };
  return io;
}

/** Left-aligned columns, for the layer table and friends. */
export function formatTable(header: string[], rows: string[][]): string {
  // A loop, not Math.max(...column): spreading 150,000 rows into arguments overflows the stack.
  const widths = header.map((h) => h.length);
  for (const r of rows) widths.forEach((w, i) => (widths[i] = Math.max(w, (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}
