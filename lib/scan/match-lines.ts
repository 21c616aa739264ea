import { lineMatcher } from '../tree/local/native';

/** What matchLines took from the start of both ranges. */
export interface Matched {
  lines: number;
  /** Code units of `ours` taken (whole lines, newlines included): where the walk's text goes on. */
  units: number;
  /** Bytes of `prev` taken: the same lines with their hashes, and newlines (its last line counting one, which it lacks). */
  prevBytes: number;
  /** The code unit of `ours` where the last line taken starts (when lines > 0). */
  last: number;
}

/**
 * The fast path of a re-scan of an unchanged tree: this scan's lines
 * (`ours`: UTF-16LE code units, a JavaScript string's, [from, to) of them
 * whole lines; a file's line holds the placeholder hash, `marker` being
 * `,"hash":"alg:?"`) walked side by side with PREV's (`prev`: UTF-8, whole
 * lines, the last one maybe without its newline), for as long as each PREV
 * line is this scan's line with lower-case hex digits (`hexLength` of them)
 * in place of the placeholder's `?`, or this scan's very line where it holds
 * none. The PREV lines taken are then this scan's lines, byte for byte.
 *
 * In C when the addon is built (native/match-lines.c: a re-scan of the
 * bench's 100k-file tree spent 0.1 s comparing lines as JavaScript strings),
 * here otherwise; test/scan/match-lines.test.ts holds the two to each other.
 */
export function matchLines(
  ours: Buffer,
  from: number,
  to: number,
  prev: Buffer,
  prevFrom: number,
  prevEnd: number,
  marker: Buffer,
  hexLength: number,
  native = lineMatcher !== undefined,
): Matched {
  if (native) {
    lineMatcher!.matchLines(ours, from, to, prev, prevFrom, prevEnd, marker, hexLength, RESULT);
    return { lines: RESULT[0]!, units: RESULT[1]!, prevBytes: RESULT[2]!, last: RESULT[3]! };
  }
  const text = ours.toString('utf16le', 2 * from, 2 * to);
  const mark = marker.toString('latin1');
  let lines = 0;
  let a = 0;
  let p = prevFrom;
  let last = 0;
  while (a < text.length && p < prevEnd) {
    const b = text.indexOf('\n', a);
    if (b < 0) break;
    let q = prev.indexOf(0x0a, p);
    if (q < 0 || q > prevEnd) q = prevEnd;
    const line = text.slice(a, b);
    const theirs = prev.toString('utf8', p, q);
    const m = line.indexOf(mark);
    if (m < 0) {
      if (theirs !== line) break;
    } else {
      // The digits stand where the placeholder's `?` is.
      const d = m + mark.length - 2;
      const digits = theirs.slice(d, d + hexLength);
      if (!/^[0-9a-f]*$/.test(digits) || theirs !== line.slice(0, d) + digits + line.slice(d + 1) || digits.length !== hexLength) break;
    }
    last = a;
    lines++;
    a = b + 1;
    p = q + 1;
  }
  return { lines, units: a, prevBytes: p - prevFrom, last: from + last };
}

const RESULT = new Float64Array(4);
