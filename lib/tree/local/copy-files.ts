import type { FsPath } from './list-dir';
import { C, CJSTRIDE, CR, CS, RSTRIDE, fileReader, systemError } from './native';
import { PathList } from './path-list';
import { batchId, readerThread } from './reader-thread';
import { StaleError } from './write';

/** What a copy of the batch needs besides its paths: the planned source, and the attributes to give (-1: leave as made). */
export interface CopySpec {
  size: number;
  mtimeSec: number;
  mtimeNsec: number;
  mode: number;
  uid: number;
  gid: number;
  fsync: boolean;
  /**
   * The destination root the temporary name lies under: its directory is
   * then opened from the root's descriptor, never through a symlink
   * (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), whatever another
   * process did to the tree since the caller checked it.
   */
  root?: string;
}

/** Bytes of `root` and its slash at the start of `p`, or 0 when `p` is not below it as spelt. */
export function rootLength(root: string, p: Buffer): number {
  const r = Buffer.from(root);
  if (p.length <= r.length || !p.subarray(0, r.length).equals(r)) return 0;
  if (r[r.length - 1] === 0x2f) return r.length;
  return p[r.length] === 0x2f ? r.length + 1 : 0;
}

/** Why a copy stopped without an error of the system: the plan's source or destination is not what it was. */
const STALE: Record<number, string> = {
  [CS.NOT_REGULAR]: 'source changed since the scan: no longer a regular file',
  [CS.SOURCE_CHANGED]: 'source changed since the scan',
  [CS.SOURCE_MOVED]: 'source changed while being copied',
  [CS.EXISTS]: 'changed since the scan: something is there now',
};

/** The call each stage stands for, in errors (as Node would name it). */
const SYSCALL: Record<number, string> = {
  [CS.OPEN_SOURCE]: 'open',
  [CS.CREATE]: 'open',
  [CS.READ]: 'read',
  [CS.WRITE]: 'write',
  [CS.CHOWN]: 'fchown',
  [CS.CHMOD]: 'fchmod',
  [CS.UTIMES]: 'futime',
  [CS.FSYNC]: 'fsync',
  [CS.CLOSE]: 'close',
  [CS.EXISTS]: 'lstat',
  [CS.RENAME]: 'rename',
};

/**
 * New small files made a batch at a time by the addon's reader thread
 * (native/copy-files.c): copies for cairn-apply, each as Applier.copy makes
 * one (source checked before and after, temporary file beside the final
 * name, attributes, then a rename that never replaces), or, kind 'write',
 * files of given bytes for cairn-restore, made the same way. Only with the
 * addon: without it, both make one file at a time.
 */
export class CopyBatch {
  private readonly paths: PathList;
  private readonly jobs: Float64Array;
  private readonly result: Float64Array;
  private id = -1;
  count = 0;
  /** A write batch's bytes, file after file. */
  private data: Buffer | undefined;
  private used = 0;

  static readonly available = fileReader !== undefined;

  /** A new run: copies run again even if one stopped them in an earlier run of this process. */
  static newRun(): void {
    fileReader!.resetCopies(readerThread());
  }

  /** kind 'write': new files of given bytes (write()), not copies of files (add()). */
  constructor(
    readonly capacity: number,
    private readonly kind: 'copy' | 'write' = 'copy',
  ) {
    this.paths = new PathList(capacity * 3);
    this.jobs = new Float64Array(capacity * CJSTRIDE);
    this.result = new Float64Array(capacity * RSTRIDE);
  }

  get full(): boolean {
    return this.count === this.capacity;
  }

  add(src: FsPath, tmp: FsPath, dst: FsPath, spec: CopySpec): void {
    this.paths.add(asBytes(src));
    this.job(asBytes(tmp), asBytes(dst), spec, spec.size, 0);
  }

  /** Queues a new file of `bytes` (a write batch), made and renamed as a copy is. */
  write(tmp: FsPath, dst: FsPath, bytes: Buffer, spec: CopySpec): void {
    if (this.data === undefined || this.used + bytes.length > this.data.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.used + bytes.length, (this.data?.length ?? 0) * 2, 1 << 20));
      this.data?.copy(bigger, 0, 0, this.used);
      this.data = bigger;
    }
    bytes.copy(this.data, this.used);
    this.job(asBytes(tmp), asBytes(dst), spec, bytes.length, this.used);
    this.used += bytes.length;
  }

  /** The temporary and final paths of the next file, and its numbers. */
  private job(tmp: Buffer, dst: Buffer, spec: CopySpec, size: number, offset: number): void {
    this.paths.add(tmp);
    this.paths.add(dst);
    const j = this.count++ * CJSTRIDE;
    this.jobs[j + C.SIZE] = size;
    this.jobs[j + C.MTIME_SEC] = spec.mtimeSec;
    this.jobs[j + C.MTIME_NSEC] = spec.mtimeNsec;
    this.jobs[j + C.MODE] = spec.mode;
    this.jobs[j + C.UID] = spec.uid;
    this.jobs[j + C.GID] = spec.gid;
    this.jobs[j + C.FSYNC] = spec.fsync ? 1 : 0;
    this.jobs[j + C.OFFSET] = offset;
    this.jobs[j + C.ROOTLEN] = spec.root !== undefined ? rootLength(spec.root, tmp) : 0;
  }

  /** Bytes queued by write(). */
  get bytes(): number {
    return this.used;
  }

  /** Hands the batch to the reader thread; finish() waits for it. */
  start(): void {
    if (this.count === 0) return;
    this.id = batchId();
    if (this.kind === 'write') fileReader!.submit(readerThread(), this.id, 2, this.paths.buf, this.paths.ends, this.count, this.jobs, this.data!);
    else fileReader!.submit(readerThread(), this.id, 1, this.paths.buf, this.paths.ends, this.count, this.jobs, undefined);
  }

  finish(): void {
    if (this.id < 0) return;
    fileReader!.finish(readerThread(), this.id, this.result);
    this.id = -1;
  }

  /**
   * Copy k's outcome: the bytes copied, 'sparse' (not copied: the caller
   * copies it with its holes), or the error to throw (StaleError, or the
   * system error Node's call would have thrown), with `removedTemp` true
   * when the copy had made its temporary file.
   */
  outcome(k: number): number | 'sparse' | Error {
    const r = k * RSTRIDE;
    const stage = this.result[r + CR.STAGE]!;
    const errno = this.result[r + CR.ERR]!;
    if (stage === CS.DONE) return this.result[r + CR.BYTES]!;
    if (stage === CS.SPARSE) return 'sparse';
    // After a copy that stopped the run (no space, a read-only or failing disk).
    if (stage === CS.NOT_RUN) return Object.assign(new Error('not run: an earlier copy stopped the run'), { code: 'ENOTRUN', removedTemp: false });
    // The temporary file the copy made is gone already; callers say so.
    const removedTemp = this.result[r + CR.MADE] === 1;
    if (errno === 0) return Object.assign(new StaleError(STALE[stage] ?? 'changed since the scan'), { removedTemp });
    // A write says no path, as Node's write does ("ENOSPC: no space left on device, write").
    if (stage === CS.WRITE) {
      const named = systemError(errno, 'write', '');
      return Object.assign(new Error(named.message.replace(/ ''$/, '')), { code: named.code, errno: named.errno, syscall: 'write', removedTemp });
    }
    // Which path the failed call was on: the source, the temporary file, or the final name.
    const per = this.kind === 'write' ? 2 : 3;
    const first = per * k;
    const path = stage === CS.OPEN_SOURCE || stage === CS.READ ? this.paths.at(first) : stage === CS.EXISTS ? this.paths.at(first + per - 1) : this.paths.at(first + per - 2);
    return Object.assign(systemError(errno, SYSCALL[stage] ?? 'copy', path), { removedTemp });
  }

  clear(): void {
    this.finish();
    this.count = 0;
    this.used = 0;
    this.paths.clear();
  }
}

function asBytes(p: FsPath): Buffer {
  return typeof p === 'string' ? Buffer.from(p) : p;
}
