import { MAX_SECS, MIN_SECS, formatTime } from '../records/time';
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
 * whole lines) walked side by side with PREV's (`prev`: UTF-8, whole lines,
 * the last one maybe without its newline), for as long as each PREV line is
 * this scan's line, with `hashKey` (`,"hash":"alg:`), `hexLength`
 * lower-case hex digits and the file's ctime before the closing brace where
 * the line is a file's. `ctimes` holds a ctime per line of ours (seconds
 * and nanoseconds; NaN for a line that is no file of ours), the line at
 * `from` being number `firstLine`. The PREV lines taken are then this
 * scan's lines with their hashes, byte for byte.
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
  hashKey: Buffer,
  hexLength: number,
  ctimes: Float64Array,
  firstLine: number,
  native = lineMatcher !== undefined,
): Matched {
  if (native) {
    lineMatcher!.matchLines(ours, from, to, prev, prevFrom, prevEnd, hashKey, hexLength, ctimes, firstLine, RESULT);
    return { lines: RESULT[0]!, units: RESULT[1]!, prevBytes: RESULT[2]!, last: RESULT[3]! };
  }
  const text = ours.toString('utf16le', 2 * from, 2 * to);
  const key = hashKey.toString('latin1');
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
    const k = firstLine + lines;
    const secs = 2 * k + 1 < ctimes.length ? ctimes[2 * k]! : NaN;
    if (Number.isNaN(secs)) {
      if (theirs !== line) break;
    } else {
      // The hash and the ctime before the closing brace.
      const nsec = ctimes[2 * k + 1]!;
      // As native/match-lines.c: seconds clamped to what can be written (as formatTime does), then whole.
      if (!Number.isInteger(Math.min(Math.max(secs, MIN_SECS), MAX_SECS)) || !Number.isInteger(nsec) || nsec < 0 || nsec >= 1e9 || !line.endsWith('}')) break;
      const at = line.length - 1 + key.length;
      const digits = theirs.slice(at, at + hexLength);
      if (digits.length !== hexLength || !/^[0-9a-f]*$/.test(digits)) break;
      if (theirs !== `${line.slice(0, -1)}${key}${digits}","ctime":"${formatTime(secs, nsec)}"}`) break;
    }
    last = a;
    lines++;
    a = b + 1;
    p = q + 1;
  }
  return { lines, units: a, prevBytes: p - prevFrom, last: from + last };
}

const RESULT = new Float64Array(4);
