import { isUtf8 } from 'node:buffer';
import { InputError } from '../cli/errors';

const NL = 0x0a;
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
  /** Number of the line last returned (1-based). */
  line = 0;

  constructor(
    source: AsyncIterable<Uint8Array | string>,
    readonly file: string,
  ) {
    this.iter = source[Symbol.asyncIterator]();
  }

  /** The next line without its `\n`, or undefined at the end of input. */
  async next(): Promise<string | undefined> {
    if (this.index < this.lines.length || (await this.fill())) return this.take();
    return undefined;
  }

  /** The next buffered line, or undefined when the buffer is empty (then await fill()). */
  take(): string | undefined {
    if (this.index >= this.lines.length) return undefined;
    this.line++;
    return this.lines[this.index++];
  }

  /** Buffers more lines; false at the end of input. */
  async fill(): Promise<boolean> {
    if (this.index < this.lines.length) return true;
    while (!this.done) {
      const r = await this.iter.next();
      if (r.done) {
        this.done = true;
        if (this.rest.length === 0) return false;
        this.lines = [this.decode(this.rest, this.line + 1)];
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
      const head = this.decode(this.rest.length ? Buffer.concat([this.rest, chunk.subarray(0, first)]) : chunk.subarray(0, first), this.line + 1);
      const parts = first < last ? this.decode(chunk.subarray(first + 1, last), this.line + 2).split('\n') : [];
      parts.unshift(head);
      this.rest = Buffer.from(chunk.subarray(last + 1));
      this.lines = parts;
      this.index = 0;
      return true;
    }
    return false;
  }

  /** Whole lines as text; `firstLine` numbers them for the message when the bytes are not UTF-8. */
  private decode(bytes: Buffer, firstLine: number): string {
    if (isUtf8(bytes)) return bytes.toString('utf8');
    let line = firstLine;
    let start = 0;
    for (let i = bytes.indexOf(NL); i >= 0; i = bytes.indexOf(NL, start)) {
      if (!isUtf8(bytes.subarray(start, i))) break;
      line++;
      start = i + 1;
    }
    throw new InputError(this.file, line, undefined, 'invalid UTF-8 (raw names belong in path_b64)');
  }
}
