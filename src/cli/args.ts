// Caffe's tools take gflags-style flags (`-solver x`, `-weights=a`); kdnet's own are `--solver x`.
// Both are accepted: a single-dash flag of two or more letters becomes its double-dash twin.
export function normalizeCaffeFlags(argv: string[]): string[] {
  return argv.map((a) => (/^-[A-Za-z_][A-Za-z0-9_]+(=.*)?$/.test(a) ? '-' + a : a));
}
