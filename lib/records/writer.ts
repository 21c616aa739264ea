import type { Writable } from 'node:stream';

/** Flush when this many characters are buffered: few large writes, not one per line. */
const CHUNK = 1 << 16;

/**
 * Buffered NDJSON output. Lines are joined into large writes; when the
 * destination signals backpressure, `blocked` turns true and producers await
 * `drain()` before going on, so a slow consumer never makes us buffer a
 * whole tree. Only whole lines are ever handed to the stream.
 */
export class NdjsonWriter {
  private buf = '';
  /** Lines given as bytes, copied here with any text before them: they go out before `buf`. */
  private block: Buffer | undefined;
  private blockLength = 0;
  private waiting: Promise<void> | undefined;

  constructor(private readonly out: Writable = process.stdout) {}

  /** Writes one record (any JSON object) as one line. */
  write(record: object): void {
    this.writeLine(JSON.stringify(record));
  }

  /** Writes one already-serialised JSON line (without `\n`). */
  writeLine(json: string): void {
    this.buf += json + '\n';
    if (this.buf.length + this.blockLength >= CHUNK) this.flush();
  }

  /** Writes whole lines at once (each ending with a newline). */
  writeText(text: string): void {
    this.buf += text;
    if (this.buf.length + this.blockLength >= CHUNK) this.flush();
  }

  /**
   * Writes whole lines given as UTF-8 bytes, which the caller may reuse once
   * this returns (cairn-scan --reuse puts out PREV's bytes: no string made).
   */
  writeBytes(lines: Buffer): void {
    const text = this.buf !== '' ? Buffer.byteLength(this.buf) : 0;
    if (this.block !== undefined && this.blockLength + text + lines.length > this.block.length) this.flush();
    this.block ??= Buffer.allocUnsafe(Math.max(2 * CHUNK, text + lines.length));
    if (text > 0) {
      this.blockLength += this.block.write(this.buf, this.blockLength);
      this.buf = '';
    }
    this.blockLength += lines.copy(this.block, this.blockLength);
    if (this.blockLength >= CHUNK) this.flush();
  }

  /** True while the destination asks us to wait; then await drain(). */
  get blocked(): boolean {
    return this.waiting !== undefined;
  }

  drain(): Promise<void> {
    return this.waiting ?? Promise.resolve();
  }

  flush(): void {
    if (this.block !== undefined) {
      // A block is written as it is, never reused: the stream may hold it until written.
      const block = this.block.subarray(0, this.blockLength);
      this.block = undefined;
      this.blockLength = 0;
      this.send(block);
    }
    if (this.buf === '') return;
    const chunk = this.buf;
    this.buf = '';
    this.send(chunk);
  }

  private send(chunk: string | Buffer): void {
    if (!this.out.write(chunk) && this.waiting === undefined) {
      this.waiting = new Promise((resolve) => {
        this.out.once('drain', () => {
          this.waiting = undefined;
          resolve();
        });
      });
    }
  }

  /** Writes the end record that tells readers the stream is complete, and flushes. */
  async end(counts?: Record<string, number>): Promise<void> {
    this.buf += counts ? `${JSON.stringify({ cairn: 'end', counts })}\n` : '{"cairn":"end"}\n';
    this.flush();
    await this.drain();
  }
}
