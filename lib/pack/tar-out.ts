import * as fs from 'node:fs';
import type { Writable } from 'node:stream';
import * as zlib from 'node:zlib';

const SIZE = 4 << 20;
/** Buffers in the ring: reading goes on while the writes of up to RING - 1 full ones are still under way. */
const RING = 4;

/**
 * Where a tar goes: a file descriptor written with large positional-free
 * writes, or a stream (a pipe on stdout, gzip). A ring of buffers: one is
 * filled (file contents are read straight into it) while those before it
 * are being written (and hashed), so reading, hashing and writing overlap.
 */
export class TarOut {
  /** Shared, so that a hashing thread can read file contents where they were read to. */
  readonly shared = Array.from({ length: RING }, () => new SharedArrayBuffer(SIZE));
  private readonly ring = this.shared.map((s) => Buffer.from(s));
  /** What still uses each buffer: its write, and the hashing of its chunks. */
  private readonly busy: Promise<unknown>[][] = this.shared.map(() => []);
  /** Which buffer is being filled. */
  private index = 0;
  private buf = this.ring[0]!;
  private pos = 0;
  /** The last write started: writes complete in order. */
  private pending: Promise<void> | undefined;
  private failure: Error | undefined;
  private readonly stream: Writable | undefined;
  private readonly finished: Promise<void> | undefined;
  /** Bytes of tar handed out so far (before compression). */
  bytes = 0;
  /** Called before a buffer goes out: whoever laid out slots in it fills them now. */
  beforeFlush: (() => void) | undefined;

  constructor(
    private readonly fd: number,
    gzip: boolean,
  ) {
    // A pipe may be non-blocking (EAGAIN): streams handle that, fs.write does not.
    const regular = fs.fstatSync(fd).isFile();
    if (gzip || !regular) {
      const sink: Writable = fd === 1 ? process.stdout : fs.createWriteStream('', { fd, autoClose: false });
      if (gzip) {
        const gz = zlib.createGzip({ chunkSize: 1 << 16 });
        gz.pipe(sink);
        this.stream = gz;
        this.finished = new Promise((resolve, reject) => {
          sink.once('error', reject);
          gz.once('error', reject);
          (sink === process.stdout ? gz : sink).once(sink === process.stdout ? 'end' : 'finish', () => resolve());
        });
      } else this.stream = sink;
      this.stream.on('error', (err) => (this.failure ??= err));
    }
  }

  /** Room in the current buffer, at least 512 bytes (a whole block), for reading into. */
  room(): Buffer {
    return this.buf.subarray(this.pos);
  }

  /** The buffer being filled, whole (offsets are those of `at`). */
  current(): Buffer {
    return this.buf;
  }

  /** Where room() starts: the shared buffer's index and the offset in it. */
  get at(): { index: number; offset: number } {
    return { index: this.index, offset: this.pos };
  }

  /** The current buffer must not be reused before `p` settles. */
  guard(p: Promise<unknown>): void {
    this.busy[this.index]!.push(p);
  }

  /**
   * `n` bytes of room() were filled. Returns a promise only when the buffer
   * is full and goes out: most members cost no await at all.
   */
  advance(n: number): Promise<void> | undefined {
    this.pos += n;
    this.bytes += n;
    return this.pos >= SIZE - 512 ? this.flush() : undefined;
  }

  /** Copies bytes in (a promise only when the buffer had to go out). */
  put(b: Uint8Array): Promise<void> | undefined {
    if (b.length <= SIZE - 512 - this.pos) {
      this.buf.set(b, this.pos);
      return this.advance(b.length);
    }
    return this.putSlow(b);
  }

  private async putSlow(b: Uint8Array): Promise<void> {
    for (let off = 0; off < b.length; ) {
      const n = Math.min(b.length - off, SIZE - this.pos);
      this.buf.set(b.subarray(off, off + n), this.pos);
      off += n;
      await this.advance(n);
    }
  }

  /** `n` zero bytes. */
  zeros(n: number): Promise<void> | undefined {
    if (n <= SIZE - 512 - this.pos) {
      this.buf.fill(0, this.pos, this.pos + n);
      return this.advance(n);
    }
    return this.zerosSlow(n);
  }

  private async zerosSlow(n: number): Promise<void> {
    while (n > 0) {
      const k = Math.min(n, SIZE - this.pos);
      this.buf.fill(0, this.pos, this.pos + k);
      n -= k;
      await this.advance(k);
    }
  }

  private async flush(): Promise<void> {
    this.beforeFlush?.();
    if (this.failure) throw this.failure;
    if (this.pos === 0) return;
    const chunk = this.buf.subarray(0, this.pos);
    // Chained: a stream's writes are ordered anyway; fs.write calls must not overtake each other.
    const before = this.pending;
    this.pending = before ? before.then(() => this.write(chunk)) : this.write(chunk);
    // Failures are kept and rethrown by the next flush or end(), never left unhandled.
    this.pending.catch((err: Error) => (this.failure ??= err));
    this.busy[this.index]!.push(this.pending);
    this.index = (this.index + 1) % RING;
    this.buf = this.ring[this.index]!;
    this.pos = 0;
    const busy = this.busy[this.index]!;
    if (busy.length > 0) {
      await Promise.allSettled(busy);
      busy.length = 0;
    }
    if (this.failure) throw this.failure;
  }

  private write(chunk: Buffer): Promise<void> {
    if (this.stream !== undefined) {
      const s = this.stream;
      return new Promise((resolve, reject) => {
        s.write(chunk, (err) => (err ? reject(err) : resolve()));
      });
    }
    return (async () => {
      for (let off = 0; off < chunk.length; ) {
        const { bytesWritten } = await new Promise<{ bytesWritten: number }>((resolve, reject) =>
          fs.write(this.fd, chunk, off, chunk.length - off, null, (err, bytesWritten) => (err ? reject(err) : resolve({ bytesWritten }))),
        );
        off += bytesWritten;
      }
    })();
  }

  /** Writes out what is buffered and waits for it; syncs a file when asked. */
  async end(sync: boolean): Promise<void> {
    await this.flush();
    if (this.pending) await this.pending.catch(() => {});
    if (this.failure) throw this.failure;
    if (this.stream !== undefined && this.stream !== process.stdout) {
      this.stream.end();
      if (this.finished) await this.finished;
    } else if (this.stream === process.stdout) {
      await new Promise<void>((resolve) => (process.stdout.writableNeedDrain ? process.stdout.once('drain', () => resolve()) : resolve()));
    }
    if (this.failure) throw this.failure;
    if (sync && fs.fstatSync(this.fd).isFile()) fs.fsyncSync(this.fd);
  }
}
