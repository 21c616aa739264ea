import { describeSystemError } from '../cli/errors';
import { timeParts } from '../records/time';
import type { EntryBody, HashAlg } from '../records/types';
import { systemError } from '../tree/local/native';
import { ReadBatch } from '../tree/local/read-files';
import { contentPadding, encodeHeader, type TarMember } from './tar-header';
import type { TarOut } from './tar-out';
import { hasherOf } from './write-member';

/** Files read per native call: enough to make the call's cost vanish, few enough to keep checks prompt. */
const BATCH = 256;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;

/** What a stored small file must be: the planned size, time and hash; `done` hears why not (or undefined). */
export interface SmallFile {
  member: TarMember;
  /** The source's directory, with its trailing slash, and the name under it. */
  root: Buffer;
  name: Buffer;
  position: number;
  src: EntryBody;
  hash: string | undefined;
  done: (why: string | undefined) => void;
}

/**
 * Small files of a volume, laid out in the output buffer as they come
 * (header, then a slot for the content) and read in batches just before
 * the buffer goes out: per file no await, no Node call. Every file is
 * checked as write-member.ts checks a large one: read to its planned size,
 * still the planned size and time once read, and of the planned hash
 * (hashed in the hashing thread: sha256 is a third of the work here).
 */
export class SmallFiles {
  /** The batch being laid out, and its files. */
  private batch = new ReadBatch(BATCH);
  private queued: SmallFile[] = [];
  /** Batches being read (by the addon's reader thread), in order, into the current buffer. */
  private readonly reading: { batch: ReadBatch; files: SmallFile[] }[] = [];
  private readonly spare: ReadBatch[] = [];

  constructor(
    private readonly out: TarOut,
    private readonly alg: HashAlg,
  ) {
    out.beforeFlush = () => this.settle();
  }

  /**
   * Lays the file out when header, content and padding fit the current
   * buffer without making it go out; false (nothing written) when not:
   * the caller settle()s and stores it the long way.
   */
  add(f: SmallFile, header: Buffer = encodeHeader(f.member)): boolean {
    const size = f.member.size;
    const pad = contentPadding(size);
    if (header.length + size + pad >= this.out.room().length - 512) return false;
    void this.out.put(header);
    const offset = this.out.at.offset;
    this.batch.add(f.root, f.name, offset, size, f.position);
    this.queued.push(f);
    this.out.room().fill(0, size, size + pad);
    void this.out.advance(size + pad);
    if (this.batch.full) this.startBatch();
    return true;
  }

  /** Hands the batch laid out to the reader; the next one is laid out meanwhile. */
  private startBatch(): void {
    this.batch.start(this.out.current());
    this.reading.push({ batch: this.batch, files: this.queued });
    this.batch = this.spare.pop() ?? new ReadBatch(BATCH);
    this.queued = [];
  }

  /** Reads and checks what is laid out; every file's done() is called. */
  settle(): void {
    if (this.batch.count > 0) this.startBatch();
    for (const r of this.reading.splice(0)) {
      r.batch.finish();
      this.check(r.batch, r.files);
      r.batch.clear();
      this.spare.push(r.batch);
    }
  }

  /**
   * What the reads say of each file; the planned hashes are compared in the
   * hashing thread (a promise in `checking`, guarding the buffer).
   */
  private check(batch: ReadBatch, files: SmallFile[]): void {
    const buf = this.out.current();
    const n = batch.count;
    const hashed: SmallFile[] = [];
    const slots: number[] = [];
    for (let k = 0; k < n; k++) {
      const f = files[k]!;
      const size = f.member.size;
      const start = batch.jobOffset(k);
      const errno = batch.err(k);
      let why: string | undefined;
      if (errno !== 0 && batch.got(k) >= size) {
        // Read whole, then fstat failed: the bytes are the file's, but unchecked.
        why = `${describeSystemError(systemError(errno, 'fstat', batch.path(k)))}: not examined once read`;
      } else if (errno !== 0) {
        buf.fill(0, start + batch.got(k), start + size);
        why = `${describeSystemError(systemError(errno, batch.got(k) > 0 ? 'read' : 'open', batch.path(k)))}: stored as zeros`;
      } else if (batch.got(k) < size) {
        buf.fill(0, start + batch.got(k), start + size);
        why = 'shorter than planned (changed while being read)';
      } else {
        const [sec, nsec] = timeParts(f.src.mtime);
        if ((batch.mode(k) & S_IFMT) !== S_IFREG || batch.size(k) !== (f.src.size ?? 0) || batch.mtimeSec(k) !== sec || batch.mtimeNsec(k) !== nsec) {
          why = 'changed while being read';
        } else if (f.hash !== undefined) {
          hashed.push(f);
          slots.push(start, size);
          continue;
        }
      }
      f.done(why);
    }
    if (hashed.length === 0) return;
    const digests = hasherOf(this.out).files(this.alg, this.out.at.index, Float64Array.from(slots));
    this.out.guard(digests);
    this.checking.push(
      digests.then((d) => {
        hashed.forEach((f, k) => f.done(`${this.alg}:${d[k]}` !== f.hash ? 'content differs from the planned hash (changed while being read)' : undefined));
      }),
    );
  }

  /** Hash comparisons under way. */
  private checking: Promise<void>[] = [];

  /** Reads and checks everything laid out, hashes included: every file's done() has been called. */
  async drain(): Promise<void> {
    this.settle();
    const all = this.checking.splice(0);
    await Promise.all(all);
  }
}
