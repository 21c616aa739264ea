import * as fs from 'node:fs';
import type * as Net from 'node:net';
import type * as ChildProcess from 'node:child_process';
import { formatTime, parseTimeNs } from '../../records/time';
import { TEMP_PREFIX, type EntryBody, type MetaSet } from '../../records/types';
import { childOf, parentOf } from './fs-path';
import type { FsPath } from './list-dir';
import { fstatOf, lstatOrNone, type Stat } from './stat';

const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK, O_WRONLY, O_CREAT, O_EXCL } = fs.constants;

let tempCounter = 0;

/** A temporary name next to `abs`, in the same directory, so the final rename is atomic. */
export function tempBeside(abs: FsPath, prefix: string = TEMP_PREFIX): FsPath {
  return childOf(parentOf(abs), `${prefix}${process.pid}.${++tempCounter}`);
}

/**
 * Seconds as Node's utimes wants them. libuv truncates to the microsecond,
 * and a double near 1.7e9 s is only good to about 0.24 us, so aim at the
 * middle of the intended microsecond: truncation then lands on it exactly.
 */
export function utimesSeconds(time: string): number | string {
  const ns = parseTimeNs(time)!;
  const us = ns / 1000n - (ns < 0n && ns % 1000n !== 0n ? 1n : 0n);
  return beforeEpoch(Number(us) / 1e6);
}

/** utimesSeconds of a time as seconds (rounded down) and nanoseconds, as stat and tar headers give it. */
export function utimesOfParts(sec: number, nsec: number): number | string {
  return beforeEpoch(sec + Math.floor(nsec / 1000) / 1e6);
}

/**
 * Node's utimes takes a negative number for "now" (a 1969 file would get
 * today's date); a numeric string it takes as it is. libuv truncates
 * toward zero, so a time before 1970 aims half a microsecond below.
 */
function beforeEpoch(t: number): number | string {
  return t < 0 ? String(t - 0.5e-6) : t + 0.5e-6;
}

export const IS_ROOT = process.getuid?.() === 0;

export interface CopyResult {
  bytes: number;
  /** The new file, open: its attributes are set through it, then it is closed. */
  fd: number;
  /** What the new file was made with, when cairn made it (own loop): mode and owner. */
  made?: { mode: number; uid: number; gid: number };
}

/** The mode and owner a file made here gets: 0666 less the umask, and this process's ids. */
export const MADE = (() => {
  const umask = process.umask();
  return { mode: 0o666 & ~umask, uid: process.getuid?.() ?? -1, gid: process.getgid?.() ?? -1 };
})();

/** What is at a path (destination or source) is no longer what the plan saw: the action is stale, not failed. */
export class StaleError extends Error {}

const SPARSE_CHUNK = 1 << 16;
const SMALL = 1 << 20;
const ZERO = Buffer.alloc(SPARSE_CHUNK);
const COPY_BUF = Buffer.allocUnsafe(1 << 20);

/**
 * Copies the regular file at `srcAbs` into a new file at `tmp` (created
 * exclusively), checking the source is the file the plan describes (size,
 * mtime) before and after: a source that changed meanwhile throws
 * StaleError. Sparse sources are copied sparse (runs of zeros become holes).
 */
/** The source of a copy, open and checked against the plan's entry. */
export interface OpenSource {
  fd: number;
  before: Stat;
  size: number;
  sparse: boolean;
}

export function openSource(srcAbs: FsPath, src: EntryBody): OpenSource {
  const fd = fs.openSync(srcAbs, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  try {
    const before = fstatOf(fd);
    if ((before.mode & 0o170000) !== 0o100000) throw new StaleError('source changed since the scan: no longer a regular file');
    if (before.size !== src.size || formatTime(before.mtimeSec, before.mtimeNsec) !== src.mtime) throw new StaleError('source changed since the scan');
    return { fd, before, size: before.size, sparse: before.size > SPARSE_CHUNK && before.blocks * 512 < before.size };
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
}

/** The source must not have changed while it was copied, nor been swapped for another file under its name. */
export function checkSource(s: OpenSource, srcAbs: FsPath, byPath: boolean): void {
  const after = fstatOf(s.fd);
  const b = s.before;
  const still = byPath ? lstatOrNone(srcAbs) : undefined;
  const moved = after.size !== b.size || after.mtimeSec !== b.mtimeSec || after.mtimeNsec !== b.mtimeNsec || after.ctimeSec !== b.ctimeSec || after.ctimeNsec !== b.ctimeNsec;
  if (moved || (still !== undefined && still.ino !== b.ino)) throw new StaleError('source changed while being copied');
}

/** Copied by the kernel (copy_file_range): as fast as cp. Needs a destination that takes chmod (the kernel copy sets the mode). */
export function useKernelCopy(s: { size: number; sparse: boolean }, kernelCopy: boolean): boolean {
  // Small files go through our own loop: one read, one write through descriptors held, fewer
  // calls than the kernel copy, which opens both files again.
  return s.size > SMALL && !s.sparse && kernelCopy;
}

/**
 * Copies the regular file at `srcAbs` into a new file at `tmp` (created
 * exclusively), checking the source is the file the plan describes (size,
 * mtime) before and after: a source that changed meanwhile throws
 * StaleError. Sparse sources are copied sparse (runs of zeros become holes).
 */
export function copyInto(srcAbs: FsPath, src: EntryBody, tmp: FsPath, kernelCopy = true): CopyResult {
  const s = openSource(srcAbs, src);
  let out: number | undefined;
  try {
    const kernel = useKernelCopy(s, kernelCopy);
    if (kernel) {
      fs.copyFileSync(srcAbs, tmp, fs.constants.COPYFILE_EXCL);
      out = fs.openSync(tmp, O_RDONLY | O_NOFOLLOW);
      checkSource(s, srcAbs, kernel);
      return { bytes: s.size, fd: out };
    }
    out = copyLoop(s.fd, tmp, s.size, s.sparse);
    checkSource(s, srcAbs, false);
    return { bytes: s.size, fd: out, made: MADE };
  } catch (err) {
    if (out !== undefined) fs.closeSync(out);
    throw err;
  } finally {
    fs.closeSync(s.fd);
  }
}

/**
 * copyInto for a large file, by the kernel, in libuv's thread pool: several
 * large files are copied at once while the caller goes on.
 */
export async function copyIntoAsync(srcAbs: FsPath, src: EntryBody, tmp: FsPath): Promise<CopyResult> {
  const s = openSource(srcAbs, src);
  let out: number | undefined;
  try {
    if (s.sparse) {
      // Holes are made by our own loop, not the kernel copy.
      out = copyLoop(s.fd, tmp, s.size, true);
      checkSource(s, srcAbs, false);
      return { bytes: s.size, fd: out };
    }
    await fs.promises.copyFile(srcAbs, tmp, fs.constants.COPYFILE_EXCL);
    out = fs.openSync(tmp, O_RDONLY | O_NOFOLLOW);
    checkSource(s, srcAbs, true);
    return { bytes: s.size, fd: out };
  } catch (err) {
    if (out !== undefined) fs.closeSync(out);
    throw err;
  } finally {
    fs.closeSync(s.fd);
  }
}

/** write(2) may take less than it is given (a disk filling up): go on until all is written, or it fails. */
function writeAll(fd: number, chunk: Buffer, at: number): void {
  let done = 0;
  while (done < chunk.length) done += fs.writeSync(fd, chunk, done, chunk.length - done, at + done);
}

function copyLoop(fd: number, tmp: FsPath, size: number, sparse: boolean): number {
  // The usual mode for a new file (umask applies): where modes are not copied, this is the one it keeps.
  const out = fs.openSync(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o666);
  try {
    let pos = 0;
    const buf = COPY_BUF;
    while (pos < size) {
      const n = fs.readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) break;
      for (let off = 0; off < n; off += SPARSE_CHUNK) {
        const len = Math.min(SPARSE_CHUNK, n - off);
        const chunk = buf.subarray(off, off + len);
        if (sparse && len === SPARSE_CHUNK && chunk.equals(ZERO)) continue;
        writeAll(out, chunk, pos + off);
      }
      pos += n;
    }
    if (sparse) fs.ftruncateSync(out, pos);
    return out;
  } catch (err) {
    fs.closeSync(out);
    throw err;
  }
}

/** Gives a new object its attributes: mode, owner (as root), times. Symlinks: owner and times only. */
export function setAttrs(abs: FsPath, set: MetaSet, isLink: boolean): void {
  if (set.uid !== undefined && set.gid !== undefined && IS_ROOT) {
    (isLink ? fs.lchownSync : fs.chownSync)(abs, set.uid, set.gid);
  }
  // chmod after chown: chown clears setuid/setgid bits.
  if (set.mode !== undefined && !isLink) fs.chmodSync(abs, parseInt(set.mode, 8));
  if (set.mtime !== undefined) {
    const t = utimesSeconds(set.mtime);
    (isLink ? fs.lutimesSync : fs.utimesSync)(abs, Date.now() / 1000, t);
  }
}

/** setAttrs through an open descriptor of a regular file: no path lookups. */
export function setAttrsFd(fd: number, set: MetaSet, made?: { mode: number; uid: number; gid: number }): void {
  const { chown, mode } = attrCalls(set, made ?? null);
  if (chown) fs.fchownSync(fd, set.uid!, set.gid!);
  if (mode !== undefined) fs.fchmodSync(fd, mode);
  if (set.mtime !== undefined) fs.futimesSync(fd, Date.now() / 1000, utimesSeconds(set.mtime));
}

/**
 * Which calls give a file the attributes of `set`: a new file already has
 * the mode and owner it was made with (`made`; MADE for a file made here),
 * so only what differs. A mode is set again after a chown: chown clears the
 * setuid and setgid bits.
 */
export function attrCalls(set: MetaSet, made: { mode: number; uid: number; gid: number } | null): { chown: boolean; mode: number | undefined } {
  const chown = set.uid !== undefined && set.gid !== undefined && IS_ROOT && (made === null || set.uid !== made.uid || set.gid !== made.gid);
  const mode = set.mode !== undefined ? parseInt(set.mode, 8) : undefined;
  return { chown, mode: mode !== undefined && (made === null || chown || mode !== made.mode) ? mode : undefined };
}

/** A symlink at `tmp` with the entry's target (raw bytes when it has them). */
export function makeSymlink(src: EntryBody, tmp: FsPath): void {
  const target = src.target_b64 !== undefined ? Buffer.from(src.target_b64, 'base64') : src.target!;
  fs.symlinkSync(target as string, tmp);
}

/** A fifo, device or socket at `tmp`. Node has no mknod: fifos and devices come from coreutils. */
export async function makeSpecial(src: EntryBody, tmp: FsPath): Promise<void> {
  const p = typeof tmp === 'string' ? tmp : tmp.toString('latin1');
  if (typeof tmp !== 'string') throw Object.assign(new Error('ENOTSUP: special file with a name that is not UTF-8'), { code: 'ENOTSUP' });
  switch (src.type) {
    case 'fifo':
      makeNode(p, 'fifo');
      return;
    case 'block':
    case 'char': {
      const { major, minor } = splitRdev(src.rdev!);
      makeNode(p, src.type, major, minor);
      return;
    }
    case 'socket': {
      // Bound, then hard-linked to its name: Node unlinks the path it listened on when closing.
      const bound = `${p}.bind`;
      await new Promise<void>((resolve, reject) => {
        // node:net and node:child_process load only for the rare special file: every mirror's cairn-apply would pay for them.
        const server = (require('node:net') as typeof Net).createServer();
        server.once('error', reject);
        server.listen(bound, () => {
          try {
            fs.linkSync(bound, p);
          } catch (err) {
            reject(err);
          }
          server.close(() => resolve());
        });
      });
      fs.rmSync(bound, { force: true });
      return;
    }
    default:
      throw new Error(`not a special file: ${src.type}`);
  }
}

/** A fifo or a device node at `p` (mode 0600): coreutils' mkfifo and mknod, Node having no mknod. */
export function makeNode(p: string, type: 'fifo' | 'char' | 'block', major = 0, minor = 0): void {
  const { execFileSync } = require('node:child_process') as typeof ChildProcess;
  if (type === 'fifo') execFileSync('mkfifo', ['-m', '600', '--', p], { stdio: ['ignore', 'ignore', 'pipe'] });
  else execFileSync('mknod', ['-m', '600', '--', p, type === 'block' ? 'b' : 'c', String(major), String(minor)], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Linux dev_t to major/minor (glibc's gnu_dev_major/minor): major in bits 8-19 and 32-43, minor in bits 0-7 and 20-31. */
export function splitRdev(rdev: number): { major: number; minor: number } {
  const d = BigInt(rdev);
  return { major: Number(((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn)), minor: Number((d & 0xffn) | ((d >> 12n) & ~0xffn)) };
}

/** The first free numbered name for a kept version: `<versions>/<path>.<N>`. */
export function versionPath(dstRoot: string, versionsDir: string, rel: FsPath): FsPath {
  const base = typeof rel === 'string' ? `${dstRoot}/${versionsDir}/${rel}` : Buffer.concat([Buffer.from(`${dstRoot}/${versionsDir}/`), rel]);
  fs.mkdirSync(parentOf(base), { recursive: true });
  for (let n = 1; ; n++) {
    const p = typeof base === 'string' ? `${base}.${n}` : Buffer.concat([base, Buffer.from(`.${n}`)]);
    if (lstatOrNone(p) === undefined) return p;
  }
}

