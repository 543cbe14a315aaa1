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

/** Decodes the inside of one quoted literal (quotes included in `literal`). UTF-8 text stays as its bytes. */
export function decodeStringLiteral(literal: string): string {
  const body = literal.slice(1, -1);
  if (!body.includes('\\')) return utf8Bytes(body);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      out += utf8Bytes(c);
      continue;
    }
    const e = body[++i];
    if (e === undefined) throw new EscapeError('unterminated escape sequence', i - 1);
    if (e in simpleEscapes) {
      out += String.fromCharCode(simpleEscapes[e]!);
    } else if (e >= '0' && e <= '7') {
      let j = i;
      while (j < body.length && j < i + 3 && body[j]! >= '0' && body[j]! <= '7') j++;
      out += String.fromCharCode(parseInt(body.slice(i, j), 8) & 0xff);
      i = j - 1;
    } else if (e === 'x' || e === 'X') {
      let j = i + 1;
      while (j < body.length && j < i + 3 && /[0-9a-fA-F]/.test(body[j]!)) j++;
      if (j === i + 1) throw new EscapeError('\\x needs hex digits', i - 1);
      out += String.fromCharCode(parseInt(body.slice(i + 1, j), 16));
      i = j - 1;
    } else {
      throw new EscapeError(`invalid escape sequence '\\${e}'`, i - 1);
    }
  }
  return out;
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
