// Numbers printed the way protobuf's text printer does (SimpleFtoa / SimpleDtoa): %g with the fewest
// digits that read back to the same value.

/** C's printf("%.{precision}g"). */
export function formatG(value: number, precision: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  const exp = Number(value.toExponential(precision - 1).split('e')[1]);
  if (exp < -4 || exp >= precision) {
    const [mant, e] = value.toExponential(precision - 1).split('e') as [string, string];
    const sign = e[0] === '-' ? '-' : '+';
    const digits = e.replace(/^[+-]/, '').padStart(2, '0');
    return `${stripZeros(mant)}e${sign}${digits}`;
  }
  return stripZeros(value.toFixed(Math.max(0, precision - 1 - exp)));
}

function stripZeros(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/** A float32 value: 6 significant digits when they read back exactly, else 9. */
export function formatFloat(value: number): string {
  const short = formatG(value, 6);
  if (!Number.isFinite(value) || Math.fround(Number(short)) === value) return short;
  return formatG(value, 9);
}

/** A float64 value: 15 significant digits when they read back exactly, else 17. */
export function formatDouble(value: number): string {
  const short = formatG(value, 15);
  if (!Number.isFinite(value) || Number(short) === value) return short;
  return formatG(value, 17);
}
