import { isAscii, isUtf8 } from 'node:buffer';
import { InputError } from '../cli/errors';

const NL = 0x0a;
/**
 * Text of bytes already checked as UTF-8. TextDecoder rather than
 * buffer.toString: the string it makes splits and JSON-parses twice as fast
 * here (measured on a scan with non-ASCII names: 4.3 against 9.7 ms per MiB).
 */
const decoder = new TextDecoder('utf-8');
function text(bytes: Buffer): string {
  return isAscii(bytes) ? bytes.toString('latin1') : decoder.decode(bytes);
}

const LATIN1_PIECE = 512 << 10;

/**
 * The lines of bytes already checked as UTF-8. Decoded as latin1 (one byte,
 * one character: a plain copy) and split, then only the lines that hold a
 * byte over 0x7f are decoded again as UTF-8. A chunk decoded whole as UTF-8
 * makes every line a two-byte string as soon as one name is not ASCII, and
 * two-byte strings compare and parse slower (re-scan of the bench tree, 19%
 * of its lines not ASCII: decoding 81 ms a 28 MB stream against 40 ms).
 */
function linesOf(bytes: Buffer): string[] {
  if (bytes.length > LATIN1_PIECE) {
    // Node makes a latin1 string of over ~1 MB an external string, memory V8 reclaims late (diff of two 1M-entry streams: 78 MB of it).
    const cut = bytes.lastIndexOf(NL, LATIN1_PIECE);
    if (cut > 0) return linesOf(bytes.subarray(0, cut)).concat(linesOf(bytes.subarray(cut + 1)));
  }
  const lines = bytes.toString('latin1').split('\n');
  if (isAscii(bytes)) return lines;
  // In latin1 a character is a byte: a line's offsets in the text are its offsets in the bytes.
  for (let i = 0, at = 0; i < lines.length; i++) {
    const line = lines[i]!;
    // A character over 0x7f takes two bytes in UTF-8: a cheaper test than a regex (35%, measured).
    if (Buffer.byteLength(line, 'utf8') !== line.length) lines[i] = bytes.toString('utf8', at, at + line.length);
    at += line.length + 1;
  }
  return lines;
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
 */
export class LineReader {
  private readonly iter: AsyncIterator<Uint8Array | string>;
  private lines: string[] = [];
  private index = 0;
  /** Bytes after the last newline seen. */
  private rest: Buffer = EMPTY;
  private done = false;
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
    if (this.index < this.lines.length || (await this.fill())) return this.take();
    return undefined;
  }

  /** The next buffered line, or undefined when the buffer is empty (then await fill()). */
  take(): string | undefined {
    if (this.index >= this.lines.length) {
      // Bad bytes are reported when their line is reached, so earlier faults come first.
      if (this.badLine !== undefined) throw this.badLine;
      return undefined;
    }
    this.line++;
    return this.lines[this.index++];
  }

  /** The next buffered line without taking it, or undefined when the buffer is empty. */
  peek(): string | undefined {
    return this.index < this.lines.length ? this.lines[this.index] : undefined;
  }

  /** Buffers more lines; false at the end of input. */
  async fill(): Promise<boolean> {
    if (this.index < this.lines.length || this.badLine !== undefined) return true;
    while (!this.done) {
      const r = await this.iter.next();
      if (r.done) {
        this.done = true;
        if (this.rest.length === 0) return false;
        this.lines = this.decodeLines(this.rest, EMPTY, false);
        this.rest = EMPTY;
        this.index = 0;
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
      this.lines = this.decodeLines(head, chunk.subarray(first + 1, last), first < last);
      this.rest = Buffer.from(chunk.subarray(last + 1));
      this.index = 0;
      return true;
    }
    return false;
  }

  /**
   * The head line and the lines of `body` (when `hasBody`) as text. Where the
   * bytes are not UTF-8, the lines before the bad one are kept and the error
   * waits in badLine until the reader gets there.
   */
  private decodeLines(head: Buffer, body: Buffer, hasBody: boolean): string[] {
    if (isUtf8(head) && (!hasBody || isUtf8(body))) {
      const lines = hasBody ? linesOf(body) : [];
      lines.unshift(text(head));
      return lines;
    }
    const good: string[] = [];
    const pieces = [head];
    if (hasBody) for (let start = 0, i = body.indexOf(NL); ; start = i + 1, i = body.indexOf(NL, start)) {
      pieces.push(body.subarray(start, i < 0 ? body.length : i));
      if (i < 0) break;
    }
    for (const piece of pieces) {
      if (!isUtf8(piece)) {
        const at = this.line + this.lines.length - this.index + good.length + 1;
        this.badLine = new InputError(this.file, at, undefined, 'invalid UTF-8 (raw names belong in path_b64)');
        break;
      }
      good.push(text(piece));
    }
    return good;
  }
}
