// C-style escapes in text-format strings, decoded to bytes (kept as a latin1 JS string, one char per byte)
// and encoded back for printing.

const simpleEscapes: Record<string, number> = {
  n: 10, t: 9, r: 13, a: 7, b: 8, f: 12, v: 11, '\\': 92, "'": 39, '"': 34, '?': 63,
};

export class EscapeError extends Error {
  constructor(message: string, readonly offset: number) {
    super(message);
  }
}

const HEX = /^[0-9a-fA-F]$/;

function hexDigits(body: string, from: number, count: number): number | undefined {
  if (from + count > body.length) return undefined;
  for (let k = from; k < from + count; k++) if (!HEX.test(body[k]!)) return undefined;
  return parseInt(body.slice(from, from + count), 16);
}

/** One code point as UTF-8 bytes, written out by hand so a lone surrogate keeps its bytes as protobuf's do. */
function codePointBytes(cp: number): string {
  const b = String.fromCharCode;
  if (cp < 0x80) return b(cp);
  if (cp < 0x800) return b(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
  if (cp < 0x10000) return b(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
  return b(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
}

const isHeadSurrogate = (cp: number) => cp >= 0xd800 && cp < 0xdc00;
const isTrailSurrogate = (cp: number) => cp >= 0xdc00 && cp < 0xe000;

/**
 * Decodes the inside of one quoted literal (quotes included in `literal`) with protobuf's escapes: \a \b \f
 * \n \r \t \v \\ \? \' \", octal \N to \NNN, hex \xN or \xNN, \uXXXX (a UTF-16 surrogate pair of two \u
 * joins into one code point) and \UXXXXXXXX up to 10FFFF, both written as UTF-8. UTF-8 text stays as its bytes.
 */
export function decodeStringLiteral(literal: string): string {
  const body = literal.slice(1, -1);
  if (!body.includes('\\')) return utf8Bytes(body);
  let out = '';
  let plainFrom = 0;
  for (let i = 0; i < body.length; i++) {
    if (body[i] !== '\\') continue;
    out += utf8Bytes(body.slice(plainFrom, i));
    const at = i;
    const e = body[++i];
    if (e === undefined) throw new EscapeError('unterminated escape sequence', at);
    if (e in simpleEscapes) {
      out += String.fromCharCode(simpleEscapes[e]!);
    } else if (e >= '0' && e <= '7') {
      let j = i;
      while (j < body.length && j < i + 3 && body[j]! >= '0' && body[j]! <= '7') j++;
      out += String.fromCharCode(parseInt(body.slice(i, j), 8) & 0xff);
      i = j - 1;
    } else if (e === 'x' || e === 'X') {
      let j = i + 1;
      while (j < body.length && j < i + 3 && HEX.test(body[j]!)) j++;
      if (j === i + 1) throw new EscapeError('\\x needs hex digits', at);
      out += String.fromCharCode(parseInt(body.slice(i + 1, j), 16));
      i = j - 1;
    } else if (e === 'u' || e === 'U') {
      const width = e === 'u' ? 4 : 8;
      let cp = hexDigits(body, i + 1, width);
      if (cp === undefined) throw new EscapeError(`\\${e} needs ${width} hex digits`, at);
      if (cp > 0x10ffff) throw new EscapeError(`\\${e}${body.slice(i + 1, i + 1 + width)} is beyond Unicode's last code point 10FFFF`, at);
      i += width;
      if (isHeadSurrogate(cp) && body[i + 1] === '\\' && body[i + 2] === 'u') {
        const trail = hexDigits(body, i + 3, 4);
        if (trail !== undefined && isTrailSurrogate(trail)) {
          cp = 0x10000 + ((cp - 0xd800) << 10) + (trail - 0xdc00);
          i += 6;
        }
      }
      out += codePointBytes(cp);
    } else {
      throw new EscapeError(`invalid escape sequence '\\${e}'`, at);
    }
    plainFrom = i + 1;
  }
  return out + utf8Bytes(body.slice(plainFrom));
}

function utf8Bytes(s: string): string {
  // Fast path for ASCII, the overwhelming case in prototxt.
  if (/^[\x00-\x7f]*$/.test(s)) return s;
  return Buffer.from(s, 'utf8').toString('latin1');
}

/** Bytes (latin1 string) → JS string, decoding UTF-8 where it is valid. */
export function bytesToText(bytes: string): string {
  if (/^[\x00-\x7f]*$/.test(bytes)) return bytes;
  const buf = Buffer.from(bytes, 'latin1');
  const text = buf.toString('utf8');
  return Buffer.from(text, 'utf8').equals(buf) ? text : bytes;
}

/** Text → bytes (latin1 string). */
export function textToBytes(text: string): string {
  return utf8Bytes(text);
}

/** Quotes bytes for output the way protobuf's CEscape does (printable ASCII kept, the rest octal). */
export function quoteBytes(bytes: string): string {
  let out = '"';
  for (let i = 0; i < bytes.length; i++) {
    const code = bytes.charCodeAt(i);
    switch (code) {
      case 10: out += '\\n'; break;
      case 13: out += '\\r'; break;
      case 9: out += '\\t'; break;
      case 34: out += '\\"'; break;
      case 39: out += "\\'"; break;
      case 92: out += '\\\\'; break;
      default:
        if (code >= 0x20 && code < 0x7f) out += bytes[i];
        else out += '\\' + code.toString(8).padStart(3, '0');
    }
  }
  return out + '"';
}

/** A token's text for an error message: long literals (a 100,000-digit number) are cut, not echoed whole. */
export function clipText(text: string, max = 40): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}
