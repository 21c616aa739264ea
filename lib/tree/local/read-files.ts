import * as fs from 'node:fs';
import { J, JSTRIDE, R, RSTRIDE, fileReader } from './native';
import { PathList } from './path-list';
import { batchId, readerThread } from './reader-thread';
import { fstatOf } from './stat';

const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK, O_NOCTTY } = fs.constants;

/**
 * Reads a batch of small files into slots of one buffer: each opened
 * without following a symlink or waiting on a fifo, read from a position,
 * and fstat'ed after reading (so the caller can tell whether the bytes are
 * the ones it planned). One native call per batch when the addon is built
 * (native/read-files.c); Node's calls otherwise, with the same results
 * (test/tree/read-files.test.ts holds the two to each other). start()
 * hands the batch to the addon's reader thread and returns at once;
 * finish() waits for it.
 */
export class ReadBatch {
  private readonly paths: PathList;
  private jobs: Float64Array;
  private result: Float64Array;
  /** Files added since clear(). */
  count = 0;

  constructor(
    readonly capacity: number,
    private readonly native = fileReader !== undefined,
  ) {
    this.paths = new PathList(capacity);
    this.jobs = new Float64Array(capacity * JSTRIDE);
    this.result = new Float64Array(capacity * RSTRIDE);
  }

  get full(): boolean {
    return this.count === this.capacity;
  }

  /** Queues `size` bytes of `dir` + `name` from `position`, to go to `offset` of the buffer run() is given. */
  add(dir: Buffer, name: Buffer, offset: number, size: number, position: number): void {
    this.paths.add(dir, name);
    const k = this.count++;
    const j = k * JSTRIDE;
    this.jobs[j + J.OFFSET] = offset;
    this.jobs[j + J.SIZE] = size;
    this.jobs[j + J.POSITION] = position;
  }

  /** Reads every queued file into `into`. */
  run(into: Uint8Array): void {
    if (this.count === 0) return;
    if (this.native) fileReader!.readFiles(this.paths.buf, this.paths.ends, this.count, this.jobs, into, this.result);
    else for (let k = 0; k < this.count; k++) this.readOne(k, into);
  }

  /** Which submitted batch this is, while one is under way (else -1). */
  private id = -1;

  /**
   * Starts reading every queued file into `into`, in the reader thread:
   * `into` must not be used (nor the batch changed) before finish().
   * Without the addon it reads at once.
   */
  start(into: Uint8Array): void {
    if (this.count === 0) return;
    if (!this.native) return this.run(into);
    this.id = batchId();
    fileReader!.submit(readerThread(), this.id, 0, this.paths.buf, this.paths.ends, this.count, this.jobs, into);
  }

  /** Waits for what start() began; the results are then there. */
  finish(): void {
    if (this.id < 0) return;
    fileReader!.finish(readerThread(), this.id, this.result);
    this.id = -1;
  }

  /** Positive errno of file k (0: read and examined). */
  err(k: number): number {
    return this.result[k * RSTRIDE + R.ERR]!;
  }

  /** Bytes of file k read into its slot (fewer than asked: it is shorter now). */
  got(k: number): number {
    return this.result[k * RSTRIDE + R.GOT]!;
  }

  /** What fstat said of file k once read. */
  mode(k: number): number {
    return this.result[k * RSTRIDE + R.MODE]!;
  }

  size(k: number): number {
    return this.result[k * RSTRIDE + R.SIZE]!;
  }

  mtimeSec(k: number): number {
    return this.result[k * RSTRIDE + R.MTIME_SEC]!;
  }

  mtimeNsec(k: number): number {
    return this.result[k * RSTRIDE + R.MTIME_NSEC]!;
  }

  /** Where file k goes in the buffer. */
  jobOffset(k: number): number {
    return this.jobs[k * JSTRIDE + J.OFFSET]!;
  }

  /** The path of file k, as added. */
  path(k: number): Buffer {
    return this.paths.at(k);
  }

  clear(): void {
    this.finish();
    this.count = 0;
    this.paths.clear();
  }

  /** native/read-files.c's read_one, on Node's calls. */
  private readOne(k: number, into: Uint8Array): void {
    const r = k * RSTRIDE;
    this.result.fill(0, r, r + RSTRIDE);
    const j = k * JSTRIDE;
    const offset = this.jobs[j + J.OFFSET]!;
    const size = this.jobs[j + J.SIZE]!;
    const position = this.jobs[j + J.POSITION]!;
    let fd: number;
    try {
      fd = fs.openSync(this.path(k), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
    } catch (err) {
      this.result[r + R.ERR] = -((err as NodeJS.ErrnoException).errno ?? -5);
      return;
    }
    let got = 0;
    try {
      while (got < size) {
        const n = fs.readSync(fd, into, offset + got, size - got, position + got);
        if (n === 0) break;
        got += n;
      }
      const st = fstatOf(fd);
      this.result[r + R.MODE] = st.mode;
      this.result[r + R.SIZE] = st.size;
      this.result[r + R.MTIME_SEC] = st.mtimeSec;
      this.result[r + R.MTIME_NSEC] = st.mtimeNsec;
    } catch (err) {
      this.result[r + R.ERR] = -((err as NodeJS.ErrnoException).errno ?? -5);
    } finally {
      this.result[r + R.GOT] = got;
      fs.closeSync(fd);
    }
  }
}
