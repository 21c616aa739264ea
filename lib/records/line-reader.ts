import { isAscii, isUtf8 } from 'node:buffer';
import { InputError } from '../cli/errors';

const NL = 0x0a;
const LATIN1_PIECE = 64 << 10;

/**
 * A batch of lines: the pieces of bytes they are in, a piece being whole
 * lines (the last one without its newline). A piece is split into lines as
 * latin1 text (one byte, one character: a plain copy of the bytes) only
 * when a line of it is asked for as text; a line that is not ASCII is
 * decoded as UTF-8 from its bytes only when it is taken. Twin detection
 * (cairn-diff) compares the raw texts of two lines and never needs the
 * decoded form (a 1M-entry diff: 0.1 s less), and a re-scan takes most of
 * PREV as bytes, never split (scan/reuse.ts). Decoding a chunk whole as
 * UTF-8 would make every line a two-byte string as soon as one name is not
 * ASCII, and two-byte strings compare and parse slower (a re-scan of the
 * bench tree, 19% of its lines not ASCII, decoded a 28 MB stream in 81 ms
 * against 40 ms).
 */
interface Batch {
  pieces: Buffer[];
  /** Per piece: it is all ASCII (its lines are their own decoding). */
  ascii: boolean[];
}

function emptyBatch(): Batch {
  return { pieces: [], ascii: [] };
}

/** Appends the lines of bytes already checked as UTF-8 to a batch. */
function linesOf(bytes: Buffer, into: Batch): void {
  for (let start = 0; start <= bytes.length; ) {
    // Texts in pieces small enough for V8's young generation, where they die cheaply once their lines are used: a larger
    // string goes to the large-object space, which only a full collection frees (a 1M-entry diff, 512 KiB pieces: 22 full
    // collections forced by the heap guard, 0.12 s; 64 KiB: 0.3 s less in all). Over ~1 MB Node makes it an external string.
    const cut = bytes.length - start > LATIN1_PIECE ? bytes.lastIndexOf(NL, start + LATIN1_PIECE) : -1;
    const end = cut > start ? cut : bytes.length;
    lineOf(bytes.subarray(start, end), into);
    start = end + 1;
  }
}

/** Appends bytes already checked as UTF-8 (one line or more, no final newline) to a batch. */
function lineOf(bytes: Buffer, into: Batch): void {
  into.pieces.push(bytes);
  into.ascii.push(isAscii(bytes));
}
const EMPTY = Buffer.alloc(0);

/**
 * Splits a byte stream into lines, counting them for error messages.
 *
 * Hand-rolled rather than the ndjson package: it rejects invalid UTF-8
 * instead of silently replacing it, it does not end the stream at a `null`
 * line (ndjson 2.0.0 does), and it hands lines out synchronously, which
 * merge loops need. bench/ndjson-reader measures both in every `make bench`.
 * Lines are split a chunk at a time and handed out synchronously by take();
 * only an empty buffer costs an await (fill), so the per-line cost is a
 * property access, not a promise.
 *
 * A batch keeps views of its chunk's bytes (to decode lines when taken), and
 * the next chunk is asked for only once every line of the batch is taken:
 * a source may read each chunk into the buffer of the one before
 * (StreamReader.open's does). Anything that reads ahead must copy.
 */
export class LineReader {
  private readonly iter: AsyncIterator<Uint8Array | string>;
  private batch: Batch = emptyBatch();
  /** The piece of the batch holding the next line, and the line's offset in it. */
  private piece = 0;
  private at = 0;
  /** The lines of the current piece from where it was split on (undefined: not split), and the next one's index. */
  private split: string[] | undefined;
  private k = 0;
  /** Bytes after the last newline seen. */
  private rest: Buffer = EMPTY;
  private done = false;
  /** No line has been cut yet: the first may begin with a byte-order mark. */
  private atStart = true;
  private badLine: InputError | undefined;
  /** Number of the line last returned (1-based). */
  line = 0;

  constructor(
    source: AsyncIterable<Uint8Array | string>,
    readonly file: string,
  ) {
    this.iter = source[Symbol.asyncIterator]();
  }

  /** Stops reading (closes the source) before its end. */
  close(): void {
    void this.iter.return?.();
  }

  /** The next line without its `\n`, or undefined at the end of input. */
  async next(): Promise<string | undefined> {
    if (this.piece < this.batch.pieces.length || (await this.fill())) return this.take();
    return undefined;
  }

  /** The next buffered line, or undefined when the buffer is empty (then await fill()). */
  take(): string | undefined {
    if (this.piece >= this.batch.pieces.length) {
      // Bad bytes are reported when their line is reached, so earlier faults come first.
      if (this.badLine !== undefined) throw this.badLine;
      return undefined;
    }
    const line = this.decoded();
    this.skip();
    return line;
  }

  /** Takes the next buffered line without decoding it (its raw form was enough: see peekRaw). */
  skip(): void {
    // Only a line peeked at may be skipped: with none buffered, it is take()'s answer (the pending fault, or nothing).
    if (this.piece >= this.batch.pieces.length) throw this.badLine ?? new Error('LineReader.skip: no line buffered');
    this.line++;
    if (this.split !== undefined) {
      this.at += this.split[this.k]!.length + 1;
      if (++this.k === this.split.length) this.nextPiece();
      return;
    }
    const end = this.batch.pieces[this.piece]!.indexOf(NL, this.at);
    if (end < 0) this.nextPiece();
    else this.at = end + 1;
  }

  /**
   * Takes `lines` buffered lines of the current piece, `bytes` bytes with
   * their newlines (the piece's last line counting one too): lines found in
   * peekBytes' bytes.
   */
  skipBytes(lines: number, bytes: number): void {
    this.line += lines;
    this.at += bytes;
    if (this.at > this.batch.pieces[this.piece]!.length) this.nextPiece();
    // Lines split already stay split: a re-scan that meets a changed line now and then splits a piece once, not each time.
    else if (this.split !== undefined && (this.k += lines) >= this.split.length) this.nextPiece();
  }

  private nextPiece(): void {
    this.piece++;
    this.at = 0;
    this.split = undefined;
  }

  /** The next buffered line without taking it, or undefined when the buffer is empty. */
  peek(): string | undefined {
    return this.piece < this.batch.pieces.length ? this.decoded() : undefined;
  }

  /**
   * The next buffered line's bytes as latin1 text (one character a byte),
   * without taking it, or undefined when the buffer is empty. Two lines are
   * the same bytes exactly when their raw texts are equal (their decoded
   * texts may be equal for different bytes: "é" as latin1 is "Ã©").
   */
  peekRaw(): string | undefined {
    return this.piece < this.batch.pieces.length ? this.raw() : undefined;
  }

  /**
   * The bytes the next buffered line is in, and its offset in them: the
   * lines after it in the same bytes follow it up to their end (the last
   * one without its newline); skipBytes takes them. Undefined when no line
   * is buffered. Valid until the next fill().
   */
  peekBytes(): { bytes: Buffer; at: number } | undefined {
    return this.piece < this.batch.pieces.length ? { bytes: this.batch.pieces[this.piece]!, at: this.at } : undefined;
  }

  /** The next line's raw text (one is buffered), splitting its piece from there on if it is not yet. */
  private raw(): string {
    if (this.split === undefined) {
      this.split = this.batch.pieces[this.piece]!.toString('latin1', this.at).split('\n');
      this.k = 0;
    }
    return this.split[this.k]!;
  }

  /** The next line, decoded: in latin1 a character is a byte, so the line's offsets in its text are its offsets in the bytes. */
  private decoded(): string {
    const raw = this.raw();
    // A character over 0x7f takes two bytes in UTF-8: a cheaper test than a regex (35%, measured).
    if (this.batch.ascii[this.piece] || Buffer.byteLength(raw, 'utf8') === raw.length) return raw;
    return this.batch.pieces[this.piece]!.toString('utf8', this.at, this.at + raw.length);
  }

  /** Buffers more lines; false at the end of input. */
  async fill(): Promise<boolean> {
    if (this.piece < this.batch.pieces.length || this.badLine !== undefined) return true;
    while (!this.done) {
      const r = await this.iter.next();
      if (r.done) {
        this.done = true;
        if (this.rest.length === 0) return false;
        this.setBatch(this.decodeLines(this.rest, EMPTY, false));
        this.rest = EMPTY;
        return true;
      }
      const chunk = typeof r.value === 'string' ? Buffer.from(r.value) : Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
      const last = chunk.lastIndexOf(NL);
      if (last < 0) {
        this.rest = Buffer.concat([this.rest, chunk]);
        continue;
      }
      // Bytes are split at the last newline, so no UTF-8 sequence is ever cut in two.
      const first = chunk.indexOf(NL);
      const head = this.rest.length ? Buffer.concat([this.rest, chunk.subarray(0, first)]) : chunk.subarray(0, first);
      this.setBatch(this.decodeLines(head, chunk.subarray(first + 1, last), first < last));
      this.rest = Buffer.from(chunk.subarray(last + 1));
      return true;
    }
    return false;
  }

  private setBatch(b: Batch): void {
    this.batch = b;
    this.piece = 0;
    this.at = 0;
    this.split = undefined;
  }

  /**
   * The head line and the lines of `body` (when `hasBody`). Where the bytes
   * are not UTF-8, the lines before the bad one are kept and the error waits
   * in badLine until the reader gets there.
   */
  private decodeLines(head: Buffer, body: Buffer, hasBody: boolean): Batch {
    const batch = emptyBatch();
    // A byte-order mark before the first line (editors on Windows write one) is not part of it; anywhere else it is text.
    if (this.atStart && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) head = head.subarray(3);
    this.atStart = false;
    if (isUtf8(head) && (!hasBody || isUtf8(body))) {
      lineOf(head, batch);
      if (hasBody) linesOf(body, batch);
      return batch;
    }
    const pieces = [head];
    if (hasBody) for (let start = 0, i = body.indexOf(NL); ; start = i + 1, i = body.indexOf(NL, start)) {
      pieces.push(body.subarray(start, i < 0 ? body.length : i));
      if (i < 0) break;
    }
    for (const piece of pieces) {
      if (!isUtf8(piece)) {
        // The batch before is all taken (fill reads on only then); a piece here is one line.
        const at = this.line + batch.pieces.length + 1;
        this.badLine = new InputError(this.file, at, undefined, 'invalid UTF-8 (raw names belong in path_b64)');
        break;
      }
      lineOf(piece, batch);
    }
    return batch;
  }
}
