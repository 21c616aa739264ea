/**
 * Names that are not valid UTF-8 are kept exact (cairn-records(5)): the
 * record's `path` holds a readable form in which every byte that is not part
 * of a valid UTF-8 sequence is written `\xNN`, and `path_b64` the raw bytes.
 */

const strict = new TextDecoder('utf-8', { fatal: true });

export function isValidUtf8(bytes: Uint8Array): boolean {
  try {
    strict.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Length of the valid UTF-8 sequence starting at i, or 0 if it is not one. */
function sequenceLength(b: Uint8Array, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  let n: number;
  let min: number;
  if (c >= 0xc2 && c <= 0xdf) [n, min] = [2, 0x80];
  else if (c >= 0xe0 && c <= 0xef) [n, min] = [3, 0x800];
  else if (c >= 0xf0 && c <= 0xf4) [n, min] = [4, 0x10000];
  else return 0;
  if (i + n > b.length) return 0;
  let cp = c & (0xff >> (n + 1));
  for (let k = 1; k < n; k++) {
    const x = b[i + k]!;
    if ((x & 0xc0) !== 0x80) return 0;
    cp = (cp << 6) | (x & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

/** Readable form of raw bytes: valid UTF-8 decoded, other bytes as `\xNN`. */
export function readableName(bytes: Uint8Array): string {
  let out = '';
  let start = 0;
  let i = 0;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  while (i < buf.length) {
    const n = sequenceLength(buf, i);
    if (n > 0) {
      i += n;
      continue;
    }
    out += buf.toString('utf8', start, i) + `\\x${buf[i]!.toString(16).padStart(2, '0')}`;
    i++;
    start = i;
  }
  return out + buf.toString('utf8', start, i);
}
