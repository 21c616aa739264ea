import * as fs from 'node:fs';
import { InputError, UsageError, describeSystemError } from '../cli/errors';
import { LineReader } from './line-reader';
import { compareKeyed, type Keyed } from './order';
import { STREAM_VERSION, type StreamKind } from './types';

/** Where a record came from, for error messages. */
export interface Loc {
  readonly file: string;
  readonly line: number;
}

/** How to check one kind of stream: its header and its records. */
export interface StreamSpec<H, R> {
  readonly kind: StreamKind;
  header(obj: Record<string, unknown>, at: Loc): H;
  record(obj: Record<string, unknown>, at: Loc, header: H): R;
  /** Records keyed by path must come in canonical order. */
  readonly ordered: boolean;
}

/** Human name of an input: `stdin` for `-`. */
export function inputName(source: string): string {
  return source === '-' ? 'stdin' : source;
}

/** Opens a file to read; a missing or unreadable file (or a directory) is a usage error (exit 2). */
function openFile(source: string): number {
  let fd: number | undefined;
  try {
    fd = fs.openSync(source, 'r');
    if (fs.fstatSync(fd).isDirectory()) throw Object.assign(new Error('EISDIR: is a directory'), { code: 'EISDIR' });
    return fd;
  } catch (err) {
    if (fd !== undefined) fs.closeSync(fd);
    throw new UsageError(source, describeSystemError(err));
  }
}

/** Opens a file or `-`; a missing or unreadable file is a usage error (exit 2). */
export function openInput(source: string): AsyncIterable<Uint8Array> {
  if (source === '-') return process.stdin;
  return fs.createReadStream('', { fd: openFile(source), highWaterMark: 1 << 20 });
}

/**
 * A file's bytes, in chunks read into one buffer that is read into again for
 * the next: for a LineReader alone, which is done with a chunk's bytes when
 * it asks for the next one (what it keeps, it copies). A 1M-entry diff
 * allocated 330 1 MiB buffers and page-faulted their memory in anew.
 */
async function* reusedChunks(fd: number): AsyncGenerator<Buffer> {
  const buf = Buffer.allocUnsafe(1 << 20);
  try {
    for (;;) {
      const n = await new Promise<number>((resolve, reject) => fs.read(fd, buf, 0, buf.length, null, (err, got) => (err ? reject(err) : resolve(got))));
      if (n === 0) return;
      yield buf.subarray(0, n);
    }
  } finally {
    fs.close(fd, () => {});
  }
}

/** take() has nothing buffered: await more(). */
export const MORE: unique symbol = Symbol('more');

/**
 * Reads a cairn stream: checks the header (line 1: kind and version), every
 * line's JSON, each record through the spec, the canonical order, and that
 * the stream ends with its `{"cairn":"end"}` record, so that a stream cut
 * short by a dying writer is never mistaken for a complete one.
 */
export class StreamReader<H, R> {
  private prev: Keyed | undefined;

  /** The record taken last (the one the next must follow in canonical order). */
  get last(): Keyed | undefined {
    return this.prev;
  }
  /** 'open', then 'closing' once the end record is read (EOF still to be seen), then 'ended'. */
  private state: 'open' | 'closing' | 'ended' = 'open';
  /** The end record, once read: writers may put counts in it. */
  trailer: Record<string, unknown> | undefined;

  private constructor(
    private readonly lines: LineReader,
    private readonly spec: StreamSpec<H, R>,
    readonly header: H,
  ) {}

  static async open<H, R>(source: string, spec: StreamSpec<H, R>): Promise<StreamReader<H, R>> {
    const chunks = source === '-' ? process.stdin : reusedChunks(openFile(source));
    return StreamReader.fromLines(new LineReader(chunks, inputName(source)), spec);
  }

  /**
   * @param trusted records written by this process's own code (an in-process
   *   scan): parsed and order-checked, not validated field by field again.
   */
  static async fromLines<H, R>(lines: LineReader, spec: StreamSpec<H, R>, trusted = false): Promise<StreamReader<H, R>> {
    const text = await lines.next();
    const at = { file: lines.file, line: 1 };
    if (text === undefined) throw new InputError(lines.file, 0, undefined, `empty input: expected a cairn ${spec.kind} stream`);
    const obj = parseLine(text, at);
    if (typeof obj.cairn !== 'string') {
      throw new InputError(at.file, 1, undefined, `missing header: expected {"cairn":"${spec.kind}",...} on line 1`);
    }
    if (obj.cairn !== spec.kind) {
      throw new InputError(at.file, 1, 'cairn', `expected ${/^[aeiou]/.test(spec.kind) ? 'an' : 'a'} ${spec.kind} stream, got ${JSON.stringify(obj.cairn)}`);
    }
    const v = obj.version;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
      throw new InputError(at.file, 1, 'version', 'must be a positive integer');
    }
    if (v > STREAM_VERSION) {
      throw new InputError(at.file, 1, 'version', `${v} is newer than this cairn reads (${STREAM_VERSION}); upgrade cairn`);
    }
    const reader = new StreamReader(lines, spec, spec.header(obj, at));
    reader.trusted = trusted;
    return reader;
  }

  private trusted = false;

  /** Stops reading before the end (only the header was wanted). */
  close(): void {
    this.lines.close();
  }

  get file(): string {
    return this.lines.file;
  }

  get line(): number {
    return this.lines.line;
  }

  /** The next record, or undefined after the end record. */
  async next(): Promise<R | undefined> {
    for (;;) {
      const r = this.take();
      if (r !== MORE) return r;
      await this.more();
    }
  }

  /** Hands every record to `fn`, synchronously while they are buffered, to the end record. */
  async each(fn: (r: R) => void): Promise<void> {
    for (;;) {
      const r = this.take();
      if (r === undefined) return;
      if (r === MORE) await this.more();
      else fn(r);
    }
  }

  /**
   * The next record if it is buffered, undefined once the stream has ended,
   * or MORE: then await more(). For merge loops that must not pay a promise
   * per record.
   */
  take(): R | undefined | typeof MORE {
    if (this.state === 'ended') return undefined;
    if (this.state === 'closing') return MORE;
    const text = this.lines.take();
    if (text === undefined) return MORE;
    // The line reader is itself a Loc ({file, line}): no object per record for error messages.
    const at: Loc = this.lines;
    const obj = parseLine(text, at);
    if (obj.cairn !== undefined) {
      if (obj.cairn !== 'end') throw new InputError(at.file, at.line, 'cairn', `unexpected record kind ${JSON.stringify(obj.cairn)}`);
      this.state = 'closing';
      this.trailer = obj;
      return MORE;
    }
    const rec = this.trusted ? (obj as R) : this.spec.record(obj, at, this.header);
    if (this.spec.ordered) this.inOrder(rec as unknown as Keyed, at);
    return rec;
  }

  private inOrder(keyed: Keyed, at: Loc): void {
    if (this.prev !== undefined && compareKeyed(this.prev, keyed) >= 0) {
      const why = compareKeyed(this.prev, keyed) === 0 ? 'duplicate path' : `out of canonical order (after ${JSON.stringify(this.prev.path)})`;
      throw new InputError(at.file, at.line, 'path', why);
    }
    this.prev = keyed;
  }

  /**
   * The next record's line as raw latin1 text (see LineReader.peekRaw), when
   * it is buffered: for comparing two streams' lines byte for byte without
   * decoding them.
   */
  peekRaw(): string | undefined {
    return this.state === 'open' ? this.lines.peekRaw() : undefined;
  }

  /**
   * Takes the next buffered line (the one peekRaw or peekBytes shows) as
   * the record keyed `key`. The caller vouches that the line is a
   * well-formed record (it matched, byte for byte, a line this process
   * wrote); its place in the order is checked
   * here as take() checks every record's, unless the caller vouches for it
   * with `follows`: a record known to precede `key` that is also the last
   * record taken from this stream.
   */
  acceptPeeked(key: Keyed, follows?: Keyed): void {
    this.lines.skip();
    if (!this.spec.ordered) return;
    // The caller knows `key` comes after `follows` (another stream checked that): if that is this stream's last record too, so is the order.
    if (follows !== undefined && follows === this.prev) this.prev = key;
    else this.inOrder(key, this.lines);
  }

  /** The bytes of the next buffered lines (see LineReader.peekBytes), when the stream is open. */
  peekBytes(): { bytes: Buffer; at: number } | undefined {
    return this.state === 'open' ? this.lines.peekBytes() : undefined;
  }

  /**
   * Takes the next buffered lines as LineReader.skipBytes does, with no
   * check at all: for a caller taking a run of lines it wrote itself, in
   * its own (canonical) order, after the records already taken here. It
   * names the run's last record with tookUpTo, so that the next record's
   * order is checked against it.
   */
  skipBytes(lines: number, bytes: number): void {
    this.lines.skipBytes(lines, bytes);
  }

  /** The last record skipBytes took was `key`. */
  tookUpTo(key: Keyed): void {
    this.prev = key;
  }

  /** Reads on; at the end of input checks that the stream was complete. */
  async more(): Promise<void> {
    if (await this.lines.fill()) {
      if (this.state === 'closing') throw new InputError(this.lines.file, this.lines.line + 1, undefined, 'data after the end record');
      return;
    }
    if (this.state === 'open') {
      throw new InputError(this.lines.file, this.lines.line, undefined, 'truncated: the stream has no end record (did the command writing it fail?)');
    }
    this.state = 'ended';
  }
}

function parseLine(text: string, at: Loc): Record<string, unknown> {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (err) {
    // V8's wording changes between versions; keep only the position, as a column.
    const pos = /position (\d+)/.exec((err as Error).message);
    const why =
      text === '' ? 'empty line' : text.charCodeAt(0) === 0xfeff ? 'not valid JSON: a byte-order mark (U+FEFF) begins the line' : `not valid JSON${pos ? ` at column ${Number(pos[1]) + 1}` : ' (incomplete)'}`;
    throw new InputError(at.file, at.line, undefined, why);
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw new InputError(at.file, at.line, undefined, 'not a JSON object');
  }
  return obj as Record<string, unknown>;
}
