import * as fs from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { describeSystemError } from '../cli/errors';
import { hashFd } from '../hash/file-hash';
import { algOfHash, hexOf, newDigest, type Digest } from '../hash/digest';
import { TEMP_PREFIX } from '../records/types';
import { IS_ROOT, StaleError, makeNode, splitRdev, utimesOfParts } from '../tree/local/write';
import { CopyBatch } from '../tree/local/copy-files';
import { CopyQueue } from '../tree/local/copy-queue';
import { lstatOrNone } from '../tree/local/stat';
import { typeOfMode } from '../tree/local/stat-entry';
import { Confinement, confineName, symlinkProblem } from './confine';

export type Overwrite = 'never' | 'older' | 'always';
export type RestoreStatus = 'done' | 'same' | 'skipped' | 'failed' | 'dry-run';

/** One object to restore, whatever the source. */
export interface Item {
  /** Raw name as the source gives it (checked by the restorer). */
  name: Buffer;
  type: 'file' | 'dir' | 'symlink' | 'hardlink' | 'fifo' | 'char' | 'block';
  size: number;
  mode: number;
  uid: number;
  gid: number;
  mtimeSec: number;
  mtimeNsec: number;
  /** Symlink target, or the name a hard link points to (raw, as the source gives it). */
  link?: Buffer;
  devmajor?: number;
  devminor?: number;
  /** `alg:hex` the content must have. */
  hash?: string;
  /** A sparse file: where its data segments go (the content is their bytes, in order); `size` is the real size. */
  sparse?: { offset: number; size: number }[];
}

export interface Outcome {
  status: RestoreStatus;
  error?: string;
}

export interface RestorerOptions {
  dest: string;
  overwrite: Overwrite;
  dryRun: boolean;
  /** The destination ignores case (names that fold together collide). */
  foldCase: boolean;
  /** The destination keeps owners (and we are root) / permission bits: else they are not set (FAT refuses them). */
  owners: boolean;
  perms: boolean;
  /** The destination's time granularity (FAT: 2 s): times compare at it, and coarse ones are set after the rename. */
  precisionNs: number;
  /** fileBytes() may queue new small files (the caller flushes before it waits on them). */
  queue?: boolean;
}

/** Where a new file goes: its relative and absolute names, and whether something is there to replace. */
interface Placed {
  rel: Buffer;
  abs: Buffer;
  there: 'free' | 'replace';
}

/** Files up to this size may be queued whole (their bytes are copied into the batch). */
const QUEUED_SIZE = 1 << 20;

let counter = 0;

/**
 * A system error while restoring one object (a name the file system will
 * not take, a full disk) fails that object, not the run; anything else (a
 * broken archive: TarError) goes on up.
 */
function asOutcome(err: unknown): Outcome {
  const code = (err as NodeJS.ErrnoException).code;
  if (typeof code !== 'string' || code === 'ENOSPC' || code === 'EDQUOT' || code === 'EIO' || code === 'EROFS') throw err;
  return { status: 'failed', error: describeSystemError(err) };
}

/** A hash of the item's algorithm, when it has a hash to be checked against. */
function hasherOf(item: Item): Digest | undefined {
  return item.hash !== undefined ? newDigest(algOfHash(item.hash)) : undefined;
}

/** The outcome of bytes whose hash (all of them in `h`, or the hex digits of their hash) is not the item's; undefined when it is. */
function unverified(item: Item, h: Digest | string): Outcome | undefined {
  const hex = `${algOfHash(item.hash!)}:${typeof h === 'string' ? h : h.digest('hex')}`;
  return hex !== item.hash ? { status: 'failed', error: `does not verify: ${hex}, expected ${item.hash}` } : undefined;
}


function guarded(fn: () => Outcome): Outcome {
  try {
    return fn();
  } catch (err) {
    return asOutcome(err);
  }
}


/**
 * Writes restored objects into the destination, and nowhere else: every name
 * is confined (confine.ts) and every directory above it checked before
 * anything is made; objects are made under a temporary name in their
 * directory and renamed into place; a file whose bytes do not have the hash
 * they must have is removed instead of renamed. Directory times are set at
 * the end, after their contents.
 */
export class Restorer {
  readonly confine: Confinement;
  private readonly dirTimes: { rel: Buffer; item: Item }[] = [];
  /** New small files, made by the addon's thread: with the addon, and where a time set once stays (not FAT). */
  private readonly queue: CopyQueue | undefined;

  constructor(private readonly o: RestorerOptions) {
    this.confine = new Confinement(o.dest, o.foldCase);
    this.queue = o.queue === true && !o.dryRun && o.precisionNs < 1e9 && CopyBatch.available ? new CopyQueue('write') : undefined;
  }

  /** Checks the name; on success the relative path, with the directories above it made. */
  private place(item: Item): { rel: Buffer } | { refuse: string } {
    const n = confineName(item.name);
    if ('refuse' in n) return n;
    const clash = this.confine.collision(n.rel);
    if (clash !== undefined) return { refuse: clash };
    const bad = this.confine.ancestors(n.rel, this.o.dryRun);
    if (bad !== undefined) return { refuse: bad };
    return n;
  }

  /**
   * What is at `abs` already, against the item: 'free' (nothing), 'same'
   * (identical for our purpose: type, size, time to the microsecond), or
   * whether the overwrite rule lets us replace it.
   */
  private existing(abs: Buffer, item: Item): 'free' | 'same' | 'replace' | { keep: string } {
    // The number stat: most targets are free, and this runs once per object.
    const st = lstatOrNone(abs);
    if (st === undefined) return 'free';
    const type = typeOfMode(st.mode) ?? 'other';
    // Times are compared to the microsecond: what utimes can set.
    const step = Math.max(1, Math.round(this.o.precisionNs / 1000));
    const us = (sec: number, nsec: number): number => Math.floor((sec * 1e6 + Math.floor(nsec / 1000)) / step);
    const theirs = us(st.mtimeSec, st.mtimeNsec);
    const ours = us(item.mtimeSec, item.mtimeNsec);
    if (item.type === 'dir' && type === 'dir') return 'same';
    if (item.type !== 'dir' && type === 'dir') return { keep: 'a directory is there' };
    if (item.type === 'file' && type === 'file' && st.size === item.size && theirs === ours) return 'same';
    if (item.type === 'symlink' && type === 'symlink' && fs.readlinkSync(abs, { encoding: 'buffer' }).equals(item.link!)) return 'same';
    if (item.type === 'fifo' && type === 'fifo') return 'same';
    if ((item.type === 'char' || item.type === 'block') && type === item.type) {
      const { major, minor } = splitRdev(st.rdev);
      if (major === (item.devmajor ?? 0) && minor === (item.devminor ?? 0)) return 'same';
    }
    if (this.o.overwrite === 'always') return 'replace';
    if (this.o.overwrite === 'older' && theirs < ours) return 'replace';
    return { keep: this.o.overwrite === 'older' ? 'exists, not older than the archived one (kept)' : 'exists and differs (kept; see --overwrite)' };
  }

  private temp(rel: Buffer): Buffer {
    return this.confine.beside(rel, `${TEMP_PREFIX}${process.pid}.${++counter}`);
  }

  private attrs(fd: number | undefined, path: Buffer, item: Item, isLink: boolean): void {
    if (this.o.owners && IS_ROOT) (fd !== undefined ? fs.fchownSync(fd, item.uid, item.gid) : (isLink ? fs.lchownSync : fs.chownSync)(path, item.uid, item.gid));
    if (!isLink && this.o.perms) fd !== undefined ? fs.fchmodSync(fd, item.mode) : fs.chmodSync(path, item.mode);
    const t = utimesOfParts(item.mtimeSec, item.mtimeNsec);
    if (fd !== undefined) fs.futimesSync(fd, t, t);
    else (isLink ? fs.lutimesSync : fs.utimesSync)(path, t, t);
  }

  /** Restores a file whose bytes `content` hands over (it calls `write` per chunk). */
  async file(item: Item, content: (write: (chunk: Buffer) => void) => Promise<void>): Promise<Outcome> {
    try {
      return await this.fileUnsafe(item, content);
    } catch (err) {
      return asOutcome(err);
    }
  }

  /**
   * Where a new file goes: its place checked, what is there weighed against
   * --overwrite, and a temporary file open beside it; or the outcome when
   * nothing is to be written.
   */
  private newFile(item: Item, placed: Placed | Outcome = this.where(item)): { rel: Buffer; abs: Buffer; tmp: Buffer; fd: number; there: 'free' | 'replace' } | Outcome {
    if (!('abs' in placed)) return placed;
    const tmp = this.temp(placed.rel);
    const fd = fs.openSync(tmp, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
    return { ...placed, tmp, fd };
  }

  /** Where a new file goes, checked, and whether something is there; or the outcome when nothing is to be written. */
  private where(item: Item): Placed | Outcome {
    const p = this.place(item);
    if ('refuse' in p) return { status: 'failed', error: p.refuse };
    const abs = this.confine.abs(p.rel);
    const there = this.confine.fresh(p.rel) ? 'free' : this.existing(abs, item);
    if (there === 'same') return { status: 'same' };
    if (typeof there === 'object') return { status: 'skipped', error: there.keep };
    if (this.o.dryRun) return { status: 'dry-run' };
    return { rel: p.rel, abs, there };
  }

  /** Whether fileBytes() may queue a file like this one (else it writes it at once). */
  queues(item: Item): boolean {
    return this.queue !== undefined && item.sparse === undefined && item.size <= QUEUED_SIZE;
  }

  /**
   * A small file whose bytes are all here (see queues()): checked against
   * its hash, then made by the addon's thread when its name is free (a
   * promise, settled by a later batch or flushQueue()), else at once as
   * file() makes it. Its name counts as a file from now on.
   */
  fileBytes(item: Item, data: Buffer): Outcome | Promise<Outcome> {
    try {
      const w = this.where(item);
      if (!('abs' in w)) return w;
      if (w.there !== 'free' || this.queue === undefined) return this.fileUnsafe(item, async (write) => write(data), w).catch(asOutcome);
      if (data.length !== item.size) return { status: 'failed', error: `${data.length} bytes, ${item.size} expected` };
      const bad = item.hash !== undefined ? unverified(item, hexOf(algOfHash(item.hash), data)) : undefined;
      if (bad !== undefined) return bad;
      const tmp = this.temp(w.rel);
      this.confine.notDir(w.rel);
      const chown = this.o.owners && IS_ROOT;
      const made = this.queue.write(tmp, w.abs, data, {
        size: data.length,
        mtimeSec: item.mtimeSec,
        mtimeNsec: item.mtimeNsec,
        mode: this.o.perms ? item.mode : -1,
        uid: chown ? item.uid : -1,
        gid: chown ? item.gid : -1,
        fsync: false,
        root: this.o.dest,
      });
      return made.then(
        (): Outcome => ({ status: 'done' }),
        (err: Error): Outcome => (err instanceof StaleError ? { status: 'failed', error: 'an object appeared at its name meanwhile (kept)' } : asOutcome(err)),
      );
    } catch (err) {
      return asOutcome(err);
    }
  }

  /** Makes every queued file now: their promises settle. */
  flushQueue(): void {
    this.queue?.flush();
  }

  private async fileUnsafe(item: Item, content: (write: (chunk: Buffer) => void) => Promise<void>, placed?: Placed): Promise<Outcome> {
    const f = this.newFile(item, placed);
    if (!('fd' in f)) return f;
    const { rel, abs, tmp, fd, there } = f;
    const p = { rel };
    let ok = false;
    try {
      const h = hasherOf(item);
      let got = 0;
      const map = item.sparse;
      let seg = 0;
      let inSeg = 0;
      await content((chunk) => {
        h?.update(chunk);
        if (map === undefined) {
          for (let off = 0; off < chunk.length; ) off += fs.writeSync(fd, chunk, off);
        } else {
          // Each byte to its segment; the holes between stay holes.
          for (let off = 0; off < chunk.length; ) {
            while (seg < map.length && inSeg >= map[seg]!.size) (seg++, (inSeg = 0));
            if (seg >= map.length) throw Object.assign(new Error('more data than the sparse map holds'), { code: 'ESPARSE' });
            const n = Math.min(chunk.length - off, map[seg]!.size - inSeg);
            for (let w = 0; w < n; ) w += fs.writeSync(fd, chunk, off + w, n - w, map[seg]!.offset + inSeg + w);
            off += n;
            inSeg += n;
          }
        }
        got += chunk.length;
      });
      const want = map === undefined ? item.size : map.reduce((n, s) => n + s.size, 0);
      if (got !== want) return { status: 'failed', error: `${got} bytes, ${want} expected` };
      if (map !== undefined) fs.ftruncateSync(fd, item.size);
      const bad = h !== undefined ? unverified(item, h) : undefined;
      if (bad !== undefined) return bad;
      this.attrs(fd, tmp, item, false);
      // Replacing a file: the new one durable first (after a power cut, the old or the new, never an empty one).
      if (there === 'replace') fs.fsyncSync(fd);
      fs.renameSync(tmp, abs);
      // Coarse-time file systems (FAT) may keep the rename's time, not the one set through the descriptor.
      if (this.o.precisionNs >= 1e9) this.setTime(abs, item);
      this.confine.notDir(p.rel);
      ok = true;
      return { status: 'done' };
    } finally {
      fs.closeSync(fd);
      if (!ok) fs.rmSync(tmp, { force: true });
    }
  }

  /**
   * A split file, put together from parts that arrive in any order (one per
   * medium): a temporary file that each part is written into at its offset;
   * splitEnd() checks the whole file's hash and renames it into place.
   */
  splitStart(item: Item): { rel: Buffer; abs: Buffer; tmp: Buffer; fd: number; there: 'free' | 'replace' } | Outcome {
    return this.newFile(item);
  }

  splitWrite(h: { fd: number }, offset: number, chunk: Buffer): void {
    for (let off = 0; off < chunk.length; ) off += fs.writeSync(h.fd, chunk, off, chunk.length - off, offset + off);
  }

  splitEnd(h: { rel: Buffer; tmp: Buffer; fd: number; there: 'free' | 'replace' }, item: Item, complete: string | undefined): Outcome {
    let ok = false;
    try {
      if (complete !== undefined) return { status: 'failed', error: complete };
      if (fs.fstatSync(h.fd).size !== item.size) return { status: 'failed', error: `the parts make ${fs.fstatSync(h.fd).size} bytes, ${item.size} expected` };
      if (item.hash !== undefined) {
        const hex = hashFd(h.fd, algOfHash(item.hash));
        if (hex !== item.hash) return { status: 'failed', error: `the joined parts do not verify: ${hex}, expected ${item.hash}` };
      }
      this.attrs(h.fd, h.tmp, item, false);
      if (h.there === 'replace') fs.fsyncSync(h.fd);
      fs.renameSync(h.tmp, this.confine.abs(h.rel));
      if (this.o.precisionNs >= 1e9) this.setTime(this.confine.abs(h.rel), item);
      ok = true;
      return { status: 'done' };
    } finally {
      fs.closeSync(h.fd);
      if (!ok) fs.rmSync(h.tmp, { force: true });
    }
  }

  /** A directory: made now, its time set by finish(). */
  dir(item: Item): Outcome {
    return guarded(() => this.dirUnsafe(item));
  }

  private dirUnsafe(item: Item): Outcome {
    const n = confineName(item.name);
    if ('refuse' in n) return { status: 'failed', error: n.refuse };
    const clash = this.confine.collision(n.rel);
    if (clash !== undefined) return { status: 'failed', error: clash };
    const there = this.existing(this.confine.abs(n.rel), item);
    if (typeof there === 'object') return { status: 'skipped', error: there.keep };
    if (there === 'replace') {
      // Something else (a symlink, a file) stands where the directory goes, and may be replaced.
      const above = this.confine.ancestors(n.rel, this.o.dryRun);
      if (above !== undefined) return { status: 'failed', error: above };
      if (this.o.dryRun) return { status: 'dry-run' };
      fs.rmSync(this.confine.abs(n.rel), { force: true });
      this.confine.notDir(n.rel);
    }
    const bad = this.confine.directory(n.rel, this.o.dryRun);
    if (bad !== undefined) return { status: 'failed', error: bad };
    this.confine.isDir(n.rel);
    // A directory that was there keeps its mode, owner and time, unless --overwrite always.
    // Kept to the end: copies, not views of the source's read buffer (a view keeps that whole 1 MiB chunk alive: 360 MB for a 100k-file tar).
    if (!this.o.dryRun && (there !== 'same' || this.o.overwrite === 'always')) this.dirTimes.push({ rel: Buffer.from(n.rel), item: { ...item, name: Buffer.from(item.name), link: undefined } });
    return { status: this.o.dryRun ? 'dry-run' : 'done' };
  }

  /** A symbolic link; its target must stay inside the destination. */
  symlink(item: Item): Outcome {
    return guarded(() => this.symlinkUnsafe(item));
  }

  private symlinkUnsafe(item: Item): Outcome {
    const p = this.place(item);
    if ('refuse' in p) return { status: 'failed', error: p.refuse };
    const bad = symlinkProblem(p.rel, item.link!, (x) => this.confine.isLink(x), (x) => this.confine.isRealDir(x));
    if (bad !== undefined) return { status: 'failed', error: bad };
    const out = this.make(p.rel, item, (tmp) => fs.symlinkSync(item.link!, tmp), true);
    if (out.status === 'dry-run') this.confine.dryLink(p.rel);
    return out;
  }

  /** A hard link to an object restored earlier (or already in the destination): a regular file, not through a symlink. */
  hardlink(item: Item): Outcome {
    return guarded(() => this.hardlinkUnsafe(item));
  }

  private hardlinkUnsafe(item: Item): Outcome {
    const p = this.place(item);
    if ('refuse' in p) return { status: 'failed', error: p.refuse };
    const t = confineName(item.link!);
    if ('refuse' in t) return { status: 'failed', error: `its link target: ${t.refuse}` };
    const bad = this.confine.ancestors(t.rel, true, true);
    if (bad !== undefined) return { status: 'failed', error: `its link target is ${bad}` };
    const target = this.confine.abs(t.rel);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(target);
    } catch (err) {
      return { status: 'failed', error: `its link target ${t.rel.toString('utf8')}: ${describeSystemError(err)}` };
    }
    if (!st.isFile()) return { status: 'failed', error: `its link target ${t.rel.toString('utf8')} is not a regular file` };
    const abs = this.confine.abs(p.rel);
    try {
      if (fs.lstatSync(abs).ino === st.ino) return { status: 'same' };
    } catch {
      // Nothing there.
    }
    return this.make(p.rel, item, (tmp) => fs.linkSync(target, tmp), false, true);
  }

  /** A fifo or device node (mknod/mkfifo from coreutils: Node has no mknod). */
  special(item: Item): Outcome {
    return guarded(() => this.specialUnsafe(item));
  }

  private specialUnsafe(item: Item): Outcome {
    const p = this.place(item);
    if ('refuse' in p) return { status: 'failed', error: p.refuse };
    if (!isUtf8(this.confine.abs(p.rel))) return { status: 'failed', error: 'a fifo or device under a name that is not UTF-8 cannot be made (Node has no mknod; mkfifo and mknod take text)' };
    const type = item.type as 'fifo' | 'char' | 'block';
    return this.make(p.rel, item, (tmp) => makeNode(tmp.toString('utf8'), type, item.devmajor, item.devminor), false);
  }

  private make(rel: Buffer, item: Item, create: (tmp: Buffer) => void, isLink: boolean, noAttrs = false): Outcome {
    const abs = this.confine.abs(rel);
    const there = this.existing(abs, item);
    if (there === 'same') return { status: 'same' };
    if (typeof there === 'object') return { status: 'skipped', error: there.keep };
    if (this.o.dryRun) return { status: 'dry-run' };
    const tmp = this.temp(rel);
    try {
      create(tmp);
      if (!noAttrs) this.attrs(undefined, tmp, item, isLink);
      fs.renameSync(tmp, abs);
      this.confine.notDir(rel);
      return { status: 'done' };
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      return { status: 'failed', error: describeSystemError(err) };
    }
  }

  /** Directory times and modes, deepest first (making their contents changed the times). */
  finish(): void {
    this.flushQueue();
    for (const { rel, item } of this.dirTimes.reverse()) {
      const abs = this.confine.abs(rel);
      try {
        const st = fs.lstatSync(abs);
        if (!st.isDirectory()) continue;
        this.attrs(undefined, abs, item, false);
      } catch {
        // Gone or refused meanwhile: nothing to set.
      }
    }
    this.dirTimes.length = 0;
  }

  private setTime(abs: Buffer, item: Item): void {
    const t = utimesOfParts(item.mtimeSec, item.mtimeNsec);
    fs.utimesSync(abs, t, t);
  }

}
