import * as path from 'node:path';
import * as util from 'node:util';
import type { FsPath } from './list-dir';
import type { Stat } from './stat';

/**
 * The compiled addon (native/, built by make into dist/lib/native/cairn.node).
 * Its lister (native/dirstat.c): one call lists a directory sorted in
 * canonical order, one call per batch fstatat()s its names relative to the
 * directory. Measured on the 100k-file bench tree: Node's lstatSync-level
 * binding takes 3.9 us per object (path conversion, statx of the whole path),
 * fstatat on the name 1.5 us; the walk spends most of its time there.
 *
 * Absent (no C compiler when built, another platform) or refused by
 * CAIRN_NATIVE=0, the walk uses Node's calls instead, with the same output:
 * test/tree/native.test.ts holds the two to each other.
 */
export interface DirStat {
  /** Positive errno, or [names NUL-terminated in byte order, end offsets, d_types, all names UTF-8]. */
  listNames(dir: FsPath): number | [Buffer, Uint32Array, Uint8Array, boolean];
  /** Positive errno of opening dir, or STRIDE numbers per name in [from, to). A null dir: the names are whole paths. */
  statAt(dir: FsPath | null, names: Buffer, ends: Uint32Array, from: number, to: number, follow: boolean): number | Float64Array;
  /**
   * Starts a helper thread that lists directories ahead of need (stat with
   * follow, else lstat). With descend it also queues every subdirectory it
   * lists (up to maxSize bytes of st_size), before being asked: only for
   * walks that enter every directory.
   */
  openAhead(follow: boolean, descend: boolean, maxSize: number): AheadHandle;
  /** Queues a directory for the helper, under the caller's id. */
  request(handle: AheadHandle, id: number, dir: FsPath): void;
  /**
   * The listing of a request (done here if the helper has not started it):
   * positive errno, or listNames' four plus the stats of every name and the
   * dev and ino of the directory that was listed (its descriptor's fstat).
   */
  take(handle: AheadHandle, id: number): number | [Buffer, Uint32Array, Uint8Array, boolean, Float64Array, number, number];
  /** Stops the helper; what was not taken is dropped. */
  closeAhead(handle: AheadHandle): void;
  readonly STRIDE: number;
}

/** The addon's batch reader (native/read-files.c; lib/tree/local/read-files.ts uses it). */
export interface FileReader {
  /**
   * Opens (no symlink followed, no fifo waited for), reads and fstats
   * `count` files: paths NUL-terminated back to back as `ends` says;
   * JSTRIDE numbers per file in `jobs` (where in `into`, how many bytes,
   * from which position) and RSTRIDE per file filled in `result`.
   */
  readFiles(paths: Buffer, ends: Uint32Array, count: number, jobs: Float64Array, into: Uint8Array, result: Float64Array): void;
  /** Starts a reader thread, for submit and finish. */
  openReader(): ReaderHandle;
  /** Lets copies run again after one that stopped them (a copy failing for the whole destination). */
  resetCopies(handle: ReaderHandle): void;
  /**
   * readFiles (kind 0), copyFiles (kind 1), writes (kind 2: new files of
   * `into`'s bytes, two paths each: temporary and final) or lstats of
   * whole paths (kind 3: no jobs, statAt's numbers per path in the result)
   * in the reader thread; the arguments are copied, `into` is used later (kept alive
   * until finish).
   */
  submit(handle: ReaderHandle, id: number, kind: 0 | 1 | 2 | 3, paths: Buffer, ends: Uint32Array, count: number, jobs: Float64Array, into: Uint8Array | undefined): void;
  /** Waits for a submitted batch (batches run in the order submitted) and fills `result`. */
  finish(handle: ReaderHandle, id: number, result: Float64Array): void;
  readonly RSTRIDE: number;
}

/** The addon's line matcher for re-scans (native/match-lines.c; lib/scan/match-lines.ts uses it and says what it does). */
export interface LineMatcher {
  matchLines(ours: Buffer, from: number, to: number, prev: Buffer, prevFrom: number, prevEnd: number, hashKey: Buffer, hexLength: number, ctimes: Float64Array, firstLine: number, result: Float64Array): void;
}

/** A reader thread's handle (an external value). */
export type ReaderHandle = { readonly __reader: unique symbol };

/** A helper thread's handle (an external value). */
export type AheadHandle = { readonly __ahead: unique symbol };

/** Offsets in a statAt record (native/dirstat.c's enum). */
export const F = {
  ERR: 0,
  MODE: 1,
  NLINK: 2,
  UID: 3,
  GID: 4,
  RDEV: 5,
  SIZE: 6,
  BLOCKS: 7,
  INO: 8,
  DEV: 9,
  MTIME_SEC: 10,
  MTIME_NSEC: 11,
  CTIME_SEC: 12,
  CTIME_NSEC: 13,
} as const;
const STRIDE = 14;

/** Where make puts the addon: beside lib/, so `make install` copies it with the rest. */
export const ADDON_PATH = path.join(__dirname, '..', '..', 'native', 'cairn.node');

/**
 * The Stat of record `o` of a statAt result, filled into `into` (a fresh
 * object when not given); undefined when a number is beyond 2^53 (Node's
 * own call gives it exactly, as a decimal).
 */
export function statRecord(a: Float64Array, o: number, into?: Stat): Stat | undefined {
  const ino = a[o + F.INO]!;
  const size = a[o + F.SIZE]!;
  const dev = a[o + F.DEV]!;
  if (ino > Number.MAX_SAFE_INTEGER || size > Number.MAX_SAFE_INTEGER || dev > Number.MAX_SAFE_INTEGER) return undefined;
  const st = into ?? ({} as Stat);
  st.mode = a[o + F.MODE]!;
  st.nlink = a[o + F.NLINK]!;
  st.uid = a[o + F.UID]!;
  st.gid = a[o + F.GID]!;
  st.rdev = a[o + F.RDEV]!;
  st.size = size;
  st.blocks = a[o + F.BLOCKS]!;
  st.ino = ino;
  st.dev = dev;
  st.mtimeSec = a[o + F.MTIME_SEC]!;
  st.mtimeNsec = a[o + F.MTIME_NSEC]!;
  st.ctimeSec = a[o + F.CTIME_SEC]!;
  st.ctimeNsec = a[o + F.CTIME_NSEC]!;
  return st;
}

/** Offsets in a readFiles job and result (native/read-files.c's enums). */
export const J = { OFFSET: 0, SIZE: 1, POSITION: 2 } as const;
export const JSTRIDE = 3;
export const R = { ERR: 0, GOT: 1, MODE: 2, SIZE: 3, MTIME_SEC: 4, MTIME_NSEC: 5 } as const;
export const RSTRIDE = 6;
/** Offsets in a copyFiles job and result, and where a copy stopped (native/napi-util.h's enums). */
export const C = { SIZE: 0, MTIME_SEC: 1, MTIME_NSEC: 2, MODE: 3, UID: 4, GID: 5, FSYNC: 6, OFFSET: 7, ROOTLEN: 8 } as const;
export const CJSTRIDE = 9;
export const CR = { ERR: 0, STAGE: 1, BYTES: 2, MADE: 3 } as const;
export const CS = {
  DONE: 0,
  OPEN_SOURCE: 1,
  NOT_REGULAR: 2,
  SOURCE_CHANGED: 3,
  SPARSE: 4,
  CREATE: 5,
  READ: 6,
  WRITE: 7,
  SOURCE_MOVED: 8,
  CHOWN: 9,
  CHMOD: 10,
  UTIMES: 11,
  FSYNC: 12,
  CLOSE: 13,
  EXISTS: 14,
  RENAME: 15,
  NOT_RUN: 16,
} as const;

function load(): (DirStat & FileReader & LineMatcher) | undefined {
  if (process.env.CAIRN_NATIVE === '0') return undefined;
  try {
    const addon = require(ADDON_PATH) as DirStat & FileReader & LineMatcher;
    // A build of another layout would misread every record: refuse it.
    return addon.STRIDE === STRIDE && addon.RSTRIDE === RSTRIDE ? addon : undefined;
  } catch {
    return undefined;
  }
}

const addon = load();
export const dirStat: DirStat | undefined = addon;
export const fileReader: FileReader | undefined = addon;
export const lineMatcher: LineMatcher | undefined = addon;

/** The error Node's own call would have thrown for this errno: same code, same message shape. */
export function systemError(errno: number, syscall: string, where: FsPath): NodeJS.ErrnoException {
  const code = util.getSystemErrorName(-errno);
  const text = util.getSystemErrorMap().get(-errno)?.[1] ?? 'unknown error';
  const shown = typeof where === 'string' ? where : where.toString('utf8');
  return Object.assign(new Error(`${code}: ${text}, ${syscall} '${shown}'`), { code, errno: -errno, syscall, path: shown });
}
