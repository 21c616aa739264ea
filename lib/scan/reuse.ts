import { UsageError } from '../cli/errors';
import { ENTRIES, HEX_LENGTH } from '../records/entries';
import { compareKeyed, keyOf, type Keyed } from '../records/order';
import { MORE, StreamReader } from '../records/stream-reader';
import type { EntriesHeader, Entry, HashAlg } from '../records/types';
import { matchLines } from './match-lines';

const HASH_KEY = ',"hash":"';
const NEWLINE = Buffer.from('\n');
/** Code units of this scan's text handed to the matcher at first, and at most (see takeRun). */
const FIRST_WINDOW = 512;
const LAST_WINDOW = 1 << 17;

/** The end of the whole lines of text[from, to) in the first `width` code units (at least one line). */
function windowEnd(text: string, from: number, to: number, width: number): number {
  if (to - from <= width) return to;
  const nl = text.lastIndexOf('\n', from + width - 1);
  return nl >= from ? nl + 1 : text.indexOf('\n', from) + 1;
}

/** The key of a line this scan wrote. */
function keyOfLine(line: string): Keyed {
  return keyOf(JSON.parse(line) as Keyed);
}

/**
 * Hashes from a previous scan. Both streams are in canonical order and the
 * walk asks in that order, so this is a merge: one cursor, constant memory.
 */
export class Reuse {
  private current: Entry | undefined | typeof MORE = MORE;
  /** `,"hash":"alg:`, what follows a file line's last field in PREV (then the hex digits), for matchLines. */
  private readonly hashKey: Buffer;
  private readonly hexLength: number;

  private constructor(
    private readonly reader: StreamReader<EntriesHeader, Entry>,
    hash: HashAlg,
  ) {
    this.hashKey = Buffer.from(`${HASH_KEY}${hash}:`);
    this.hexLength = HEX_LENGTH[hash];
    // A PREV whose header names no algorithm holds no valid hash: its lines go through the reader, which says so.
    this.quick = reader.header.hash === hash;
  }

  private readonly quick: boolean;

  static async open(source: string, hash: HashAlg | null): Promise<Reuse> {
    if (hash === null) throw new UsageError('--reuse', 'needs --hash: only hashes are reused');
    const reader = await StreamReader.open(source, ENTRIES);
    if (reader.header.hash !== null && reader.header.hash !== hash) {
      throw new UsageError('--reuse', `${source} was hashed with ${reader.header.hash}, this scan uses ${hash}`);
    }
    return new Reuse(reader, hash);
  }

  /**
   * PREV's entry for this path, undefined if it has none, or MORE: await
   * more() and ask again. When `line` (this scan's line for the file, without
   * hash and ctime) and its ctime (seconds, nanoseconds) are given and PREV's
   * next line is exactly that line with a hash and that ctime, the answer is
   * that text itself, recognised as takeRun recognises lines, not parsed:
   * the same size, mtime, inode and ctime, in a line this scan would write.
   */
  find(key: Keyed, line?: string, ctime?: Float64Array): Entry | string | undefined | typeof MORE {
    for (;;) {
      if (this.current === MORE) {
        const known = line !== undefined && this.quick ? this.recognise(key, line, ctime!) : undefined;
        if (known !== undefined) return known;
        this.current = this.reader.take();
        if (this.current === MORE) return MORE;
      }
      if (this.current === undefined) return undefined;
      const c = compareKeyed(this.current, key);
      if (c === 0) return this.current;
      if (c > 0) return undefined;
      this.current = MORE;
    }
  }

  /** PREV's next line as text, taken (its order checked), when matchLines takes it for `line` with `ctime`. */
  private recognise(key: Keyed, line: string, ctime: Float64Array): string | undefined {
    const prev = this.reader.peekBytes();
    if (prev === undefined) return undefined;
    const m = matchLines(this.unitsOf(`${line}\n`, 0, line.length + 1), 0, line.length + 1, prev.bytes, prev.at, prev.bytes.length, this.hashKey, this.hexLength, ctime, 0);
    if (m.lines !== 1) return undefined;
    const text = prev.bytes.toString('utf8', prev.at, prev.at + m.prevBytes - 1);
    this.reader.acceptPeeked(key);
    return text;
  }

  /**
   * The fast path of a re-scan: takes PREV's lines for the lines of `text`
   * from `at` up to `to` (a unit's whole lines; a file's without hash, its
   * ctime in `ctimes`) for as long as each is this scan's line with a hash
   * and that ctime before its closing brace (a file), or this scan's very
   * line (anything else), and puts them out; moves `at` past them, and
   * says whether it took any. It stops at any other line, or where PREV's
   * buffered lines end: the caller goes on a line at a time (find). The
   * lines taken need no parsing, nor an order check: they are this scan's
   * own, in its order, and all PREV held before them was taken already
   * (nothing is held in `current` that could come after).
   */
  takeRun(text: string, at: { pos: number; line: number }, to: number, ctimes: Float64Array, put: (bytes: Buffer) => void): boolean {
    if (!this.quick) return false;
    const from = at.pos;
    if (this.current !== MORE) {
      // A record find() read past, held for a later key: if it is before this line, this scan has no such path.
      if (this.current === undefined || compareKeyed(this.current, keyOfLine(text.slice(from, text.indexOf('\n', from)))) >= 0) return false;
      this.current = MORE;
    }
    let prev = this.reader.peekBytes();
    let last = -1;
    // A window of whole lines at a time, doubling while they are all taken: a run that stops early (a changed
    // file) costs its first window, not the conversion of every line up to the next subdirectory.
    for (let width = FIRST_WINDOW; prev !== undefined && at.pos < to; width = Math.min(2 * width, LAST_WINDOW)) {
      const end = windowEnd(text, at.pos, to, width);
      const units = end - at.pos;
      const ours = this.unitsOf(text, at.pos, end);
      let took = 0;
      while (prev !== undefined && took < units) {
        const m = matchLines(ours, took, units, prev.bytes, prev.at, prev.bytes.length, this.hashKey, this.hexLength, ctimes, at.line);
        if (m.lines === 0) break;
        put(prev.bytes.subarray(prev.at, prev.at + m.prevBytes));
        // The last line of a piece comes without its newline.
        if (prev.at + m.prevBytes > prev.bytes.length) put(NEWLINE);
        this.reader.skipBytes(m.lines, m.prevBytes);
        last = at.pos + m.last;
        took += m.units;
        at.line += m.lines;
        prev = this.reader.peekBytes();
      }
      at.pos += took;
      if (took < units) break;
    }
    if (last < 0) return false;
    this.reader.tookUpTo(keyOfLine(text.slice(last, text.indexOf('\n', last))));
    return true;
  }

  /**
   * A line put out as it is where a run stopped (a directory or symlink
   * that changed), keyed `key`: PREV's records up to it are taken now, as
   * find() would take them for the next file, so that the next run starts
   * in step.
   */
  passLine(key: Keyed): void {
    const found = this.find(key);
    // PREV's record of this very path is taken too (find holds it for the caller).
    if (found !== undefined && found !== MORE) this.current = MORE;
  }

  /** A directory's line, put out by the walk as it is: taken from PREV too when PREV holds it as it is (no parsing). */
  takeLine(line: string, key: Keyed): void {
    if (!this.quick || this.current !== MORE) return;
    const prev = this.reader.peekBytes();
    if (prev === undefined) return;
    // Compared as UTF-8 text, this line only: asking the reader for it as text would split the rest of its piece.
    const nl = prev.bytes.indexOf(0x0a, prev.at);
    const end = nl < 0 ? prev.bytes.length : nl;
    if (end - prev.at < line.length || prev.bytes.toString('utf8', prev.at, end) !== line) return;
    this.reader.skipBytes(1, end - prev.at + 1);
    this.reader.tookUpTo(key);
  }

  /** text[from, to) as UTF-16LE code units, in a buffer reused from call to call (V8 writes a string so five times faster than as UTF-8). */
  private unitsOf(text: string, from: number, to: number): Buffer {
    const bytes = (to - from) * 2;
    if (this.scratch.length < bytes) this.scratch = Buffer.allocUnsafeSlow(Math.max(bytes, 2 * this.scratch.length));
    this.scratch.write(text.slice(from, to), 0, 'utf16le');
    return this.scratch;
  }

  private scratch = Buffer.allocUnsafeSlow(1 << 20);

  more(): Promise<void> {
    return this.reader.more();
  }

  /** Reads PREV to its end record: a damaged PREV fails the scan even where the walk did not need it. */
  async finish(): Promise<void> {
    while (this.current !== undefined) {
      if (this.current === MORE) await this.more();
      this.current = this.reader.take();
    }
  }
}
