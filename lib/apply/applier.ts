import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeSystemError } from '../cli/errors';
import { algOfHash } from '../hash/digest';
import { hashFile } from '../hash/file-hash';
import { formatTime } from '../records/time';
import { RENAME_PREFIX, type Action, type EntryBody, type ResultStatus } from '../records/types';
import { fsPathOf } from '../tree/local/fs-path';
import type { FsPath } from '../tree/local/list-dir';
import {
  IS_ROOT,
  MADE,
  StaleError,
  attrCalls,
  copyInto,
  copyIntoAsync,
  type CopyResult,
  makeSpecial,
  makeSymlink,
  setAttrs,
  setAttrsFd,
  tempBeside,
  versionPath,
} from '../tree/local/write';
import { lstatOrNone } from '../tree/local/stat';
import { foldName } from '../diff/fold-name';
import { CopyBatch } from '../tree/local/copy-files';
import { timeParts } from '../records/time';
import { isInside } from '../records/order';
import { CopyQueue } from '../tree/local/copy-queue';
import { mismatch } from './expect';
import { ParentGuard } from './parent-guard';

export interface ApplierOptions {
  src: string;
  dst: string;
  /** Directory under dst for kept versions, or null. */
  versions: string | null;
  dryRun: boolean;
  verify: boolean;
  fsync: boolean;
  retry: number;
  /** Owners are set only when both sides keep them (and we are root). */
  owners: boolean;
  /** Modes are set only when both sides keep them. */
  perms: boolean;
  /** The destination stores permission bits at all (FAT does not, and may refuse chmod). */
  dstPerms: boolean;
  /** The destination stores owners. */
  dstOwners: boolean;
  /** Copies read from here instead of `src` (a source in object storage): the file's bytes into a new file at `tmp`. */
  fetch?: (a: Action, tmp: FsPath) => Promise<CopyResult>;
  /**
   * New small files are copied in batches by the addon's thread (CopyQueue)
   * and independent actions run while they wait: only for a caller that
   * runs concurrent() actions in flight and calls flush() before it waits.
   */
  batch?: boolean;
}

/** What cairn-apply needs of the thing that carries out actions, on a local tree or on object storage. */
export interface ActionRunner {
  run(a: Action): Promise<Outcome>;
  /** May run while later actions start (results still come in plan order). */
  concurrent(a: Action): boolean;
  /** Removes what failed or interrupted actions left. */
  dropTemp(): void;
  /** Actions in flight at most (default: a few large copies). */
  readonly inflight?: number;
  /** The action must wait until some in flight are done (whatever the count in flight). */
  saturated?(a: Action): boolean;
  /** Runs once every action before it is done, while later ones go on (results still in plan order). */
  afterAll?(a: Action, prev: Action | undefined): boolean;
  /** Carries out what is queued: called before the caller waits for an action in flight. */
  flush?(): void;
}

export interface Outcome {
  status: ResultStatus;
  error?: string;
  kept?: string;
  bytes?: number;
}

/** Names a case-insensitive or normalizing side takes for one. */
const ANY_FOLDING = { caseFold: true, nfc: true };

/** Errors that end the whole run: the destination as a whole is unusable. */
const FATAL = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EIO']);
/** Errors worth another try (--retry). */
const TRANSIENT = new Set(['EAGAIN', 'EBUSY', 'EINTR', 'ETIMEDOUT', 'ESTALE', 'ETXTBSY']);

export class FatalApplyError extends Error {
  constructor(
    readonly path: string,
    readonly why: string,
    /** A temporary object was in the making, and was removed. */
    readonly removedTemp: boolean,
  ) {
    super(`${path}: ${why}`);
  }
}

/** One action's temporary object, while it is being made. */
interface Job {
  temp?: FsPath;
  /** Tries before this one (--retry). */
  attempt: number;
}

/** Copies of files this large may run several at once: the kernel's copy dominates, not the calls around it. */
const CONCURRENT_SIZE = 8 << 20;
/** Files up to this size go to the copy queue (the calls around them cost more than their bytes). */
const QUEUED_SIZE = 1 << 20;
/** Actions in flight at most with a queue: several batches of small copies. */
const QUEUED_INFLIGHT = 1024;
/** Large copies at once at most (libuv's pool has four threads). */
const LARGE_INFLIGHT = 4;


/**
 * Carries out one action at a time on a local destination. Every object is
 * made under a temporary name in its final directory and renamed into
 * place, so an interrupted run leaves no partial object under a final name.
 * Each action on an existing object first re-checks `expect`.
 */
export class Applier implements ActionRunner {
  private readonly guard: ParentGuard;
  /** Temporary objects of the actions in progress (large copies run several at once), removed if they fail. */
  private readonly temps = new Set<FsPath>();
  /** New small files being copied by the addon's thread. */
  private readonly queue: CopyQueue | undefined;

  constructor(private readonly o: ApplierOptions) {
    this.guard = new ParentGuard(o.dst);
    this.queue = o.batch && !o.dryRun && CopyBatch.available ? new CopyQueue() : undefined;
  }

  get inflight(): number | undefined {
    return this.queue !== undefined ? QUEUED_INFLIGHT : undefined;
  }

  /** Large copies running (each holds a source open and a thread of libuv's pool). */
  private largeRunning = 0;

  /** An action that must wait for room: a large copy while LARGE_INFLIGHT are running. */
  saturated(a: Action): boolean {
    return this.largeRunning >= LARGE_INFLIGHT && this.large(a);
  }

  /**
   * Large copies, which cairn-apply may run several at once (the kernel
   * copies, in libuv's threads); with a queue, the small copies it takes,
   * and what is made at once meanwhile (a new directory or symlink: no
   * queued copy goes there).
   */
  concurrent(a: Action): boolean {
    if (this.o.fetch !== undefined) return (a.op === 'copy' || a.op === 'update') && !this.o.dryRun;
    if (this.queue !== undefined && (this.queued(a) || a.op === 'mkdir' || a.op === 'symlink')) return true;
    return this.large(a);
  }

  /**
   * With a queue, a directory's attributes (its time, which every entry
   * made in it changes) may be set once every action before them is done,
   * without holding up the actions after them, when they close the
   * directory: the action before them (`prev`) was on it or inside it.
   * Attributes that come before its contents (a mode that lets them be
   * written, --moves) must not be overtaken.
   */
  afterAll(a: Action, prev: Action | undefined): boolean {
    return this.queue !== undefined && a.op === 'meta' && prev !== undefined && closes(prev, a);
  }

  /** A large copy: in libuv's threads, by the kernel. */
  private large(a: Action): boolean {
    return (a.op === 'copy' || a.op === 'update') && a.link === undefined && !this.o.dryRun && this.o.dstPerms && (a.src!.size ?? 0) >= CONCURRENT_SIZE;
  }

  /** A copy the queue takes: a new small file (no hard link to make, nothing to replace, keep or verify). */
  private queued(a: Action): boolean {
    return (
      this.queue !== undefined &&
      a.op === 'copy' &&
      a.expect === undefined &&
      a.link === undefined &&
      a.src?.type === 'file' &&
      (a.src.size ?? 0) <= QUEUED_SIZE &&
      this.o.fetch === undefined &&
      !this.o.verify &&
      this.o.dstPerms
    );
  }

  flush(): void {
    this.queue?.flush();
  }

  async run(a: Action): Promise<Outcome> {
    if (!this.large(a)) return this.runNow(a);
    this.largeRunning++;
    try {
      return await this.runNow(a);
    } finally {
      this.largeRunning--;
    }
  }

  private async runNow(a: Action): Promise<Outcome> {
    for (let attempt = 0; ; attempt++) {
      const job: Job = { attempt };
      try {
        return await this.once(a, job);
      } catch (err) {
        const hadTemp = job.temp !== undefined || (err as { removedTemp?: boolean }).removedTemp === true;
        this.drop(job);
        if (err instanceof StaleError) return { status: 'stale', error: err.message };
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== undefined && FATAL.has(code)) throw new FatalApplyError(a.path, describeSystemError(err), hadTemp);
        if (code === 'ENOENT' && !fs.existsSync(this.o.dst)) throw new FatalApplyError(this.o.dst, 'ENOENT: the destination root is gone', hadTemp);
        if (code !== undefined && TRANSIENT.has(code) && attempt < this.o.retry) {
          await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
          continue;
        }
        if (a.op === 'rmdir' && (code === 'ENOTEMPTY' || code === 'EEXIST')) {
          return { status: 'skipped', error: 'ENOTEMPTY: holds objects the plan did not see (excluded?)' };
        }
        return { status: 'failed', error: describeSystemError(err) };
      }
    }
  }

  /** Removes the temporary objects of actions that failed or were interrupted. */
  dropTemp(): void {
    // Queued copies end first (each removes its own temporary file if it fails).
    this.queue?.flush();
    for (const t of this.temps) this.drop({ temp: t, attempt: 0 });
  }

  private hold(job: Job, tmp: FsPath): void {
    job.temp = tmp;
    this.temps.add(tmp);
  }

  private drop(job: Job): void {
    const t = job.temp;
    if (t === undefined) return;
    job.temp = undefined;
    this.temps.delete(t);
    try {
      fs.rmSync(t, { force: true });
    } catch {
      // Best effort: the next plan removes leftovers by name.
    }
  }

  private abs(rel: string, b64?: string): FsPath {
    return fsPathOf(this.o.dst, rel, b64);
  }

  private expectAt(abs: FsPath, expect: EntryBody | undefined): void {
    const st = lstatOrNone(abs);
    if (expect === undefined) {
      if (st !== undefined) throw new StaleError('changed since the scan: something is there now');
      return;
    }
    const why = mismatch(st, expect, abs);
    if (why !== undefined) throw new StaleError(why);
  }

  private async once(a: Action, job: Job): Promise<Outcome> {
    // Records for the state and for people: nothing to do on disk.
    if (a.op === 'agree') return { status: this.o.dryRun ? 'dry-run' : 'done' };
    if (a.op === 'conflict') return { status: 'conflict', error: a.why! };
    if (a.op === 'store' || a.op === 'tombstone') throw new Error(`${a.op}: archive plans are laid out by cairn-apply --dst, not applied`);
    if (a.path !== '.') {
      const bad = this.guard.check(a.path, a.path_b64);
      if (bad !== undefined) return { status: 'failed', error: bad };
    }
    const abs = this.abs(a.path, a.path_b64);
    if (this.o.dryRun) {
      if (a.op === 'move') {
        const bad = this.guard.check(a.from!, a.from_b64);
        if (bad !== undefined) return { status: 'failed', error: bad };
        const from = this.abs(a.from!, a.from_b64);
        this.expectAt(from, a.expect);
        if (!this.sameObject(from, abs)) this.expectAt(abs, undefined);
      } else if (!(a.op === 'meta' && a.expect === undefined)) this.expectAt(abs, a.expect);
      if (a.op === 'mkdir') this.guard.assume(a.path);
      return { status: 'dry-run' };
    }
    switch (a.op) {
      case 'mkdir':
        this.expectAt(abs, undefined);
        fs.mkdirSync(abs, 0o777);
        return { status: 'done' };
      case 'copy':
      case 'update':
        return this.copy(a, abs, job);
      case 'symlink':
      case 'special':
        return this.make(a, abs, job);
      case 'meta': {
        if (a.expect !== undefined) this.expectAt(abs, a.expect);
        const st = lstatOrNone(abs);
        if (st === undefined) throw new StaleError('gone: the object to set attributes on is not there');
        const set = { ...a.set! };
        if (!this.o.owners) {
          delete set.uid;
          delete set.gid;
        }
        setAttrs(abs, set, (st.mode & 0o170000) === 0o120000);
        return { status: 'done' };
      }
      case 'move': {
        const bad = this.guard.check(a.from!, a.from_b64);
        if (bad !== undefined) return { status: 'failed', error: bad };
        const from = this.abs(a.from!, a.from_b64);
        this.expectAt(from, a.expect);
        // A change of case on a case-insensitive side finds the object itself under the new name.
        if (this.sameObject(from, abs)) {
          // A change of case alone, through a temporary name: some FAT drivers (fusefat) hang on it done at once.
          // The object itself goes through the intermediate name, which no plan removes as a leftover.
          const tmp = tempBeside(abs, RENAME_PREFIX);
          fs.renameSync(from, tmp);
          try {
            fs.renameSync(tmp, abs);
          } catch (err) {
            fs.renameSync(tmp, from);
            throw err;
          }
        } else {
          this.expectAt(abs, undefined);
          fs.renameSync(from, abs);
        }
        this.guard.forget(a.from!);
        // fusefat gives a renamed file the time of the rename: set it again where times are FAT's.
        if (!this.o.dstPerms && a.expect!.type === 'file') setAttrs(abs, { mtime: a.expect!.mtime }, false);
        return { status: 'done' };
      }
      case 'remove': {
        this.expectAt(abs, a.expect);
        const kept = this.keep(a, abs);
        if (kept === undefined) fs.unlinkSync(abs);
        return { status: 'done', ...(kept !== undefined ? { kept } : {}) };
      }
      case 'rmdir':
        this.expectAt(abs, a.expect);
        fs.rmdirSync(abs);
        this.guard.forget(a.path);
        return { status: 'done' };
    }
  }

  /**
   * The object at `y` is the one at `x` under another spelling (a
   * case-insensitive or normalizing side): same directory, names equal but
   * for case or normalization, and no entry of y's exact name.
   */
  private sameObject(x: FsPath, y: FsPath): boolean {
    if (typeof x !== 'string' || typeof y !== 'string' || path.dirname(x) !== path.dirname(y)) return false;
    const nx = path.basename(x);
    const ny = path.basename(y);
    if (nx === ny || foldName(nx, ANY_FOLDING) !== foldName(ny, ANY_FOLDING)) return false;
    try {
      return !fs.readdirSync(path.dirname(y)).includes(ny);
    } catch {
      return false;
    }
  }

  /** --versions: moves (files: hard-links) the old object aside before it is replaced or removed. */
  private keep(a: Action, abs: FsPath): string | undefined {
    if (!a.keep || this.o.versions === null) return undefined;
    const rel: FsPath = a.path_b64 !== undefined ? Buffer.from(a.path_b64, 'base64') : a.path;
    const to = versionPath(this.o.dst, this.o.versions, rel);
    fs.renameSync(abs, to);
    const shown = typeof to === 'string' ? to : to.toString('utf8');
    return shown.slice(this.o.dst.length + 1);
  }

  /** Puts the temporary object in place: re-checks what is there, keeps a version, renames. */
  private commit(a: Action, tmp: FsPath, abs: FsPath, job: Job): Outcome {
    this.expectAt(abs, a.expect);
    const kept = a.expect !== undefined ? this.keep(a, abs) : undefined;
    fs.renameSync(tmp, abs);
    job.temp = undefined;
    this.temps.delete(tmp);
    // fusefat gives a renamed file the time of the rename: set it again where times are FAT's.
    if (!this.o.dstPerms && a.src !== undefined && a.src.type === 'file') setAttrs(abs, { mtime: a.src.mtime }, false);
    return { status: 'done', ...(kept !== undefined ? { kept } : {}) };
  }

  /**
   * A new object's attributes: modes only where both sides keep them (a FAT
   * source's are made up); an object that replaces another of its type
   * keeps the mode and owner the source cannot tell.
   */
  private attrsOf(src: EntryBody, old: EntryBody | undefined): { mode?: string; uid?: number; gid?: number; mtime: string } {
    const same = old !== undefined && old.type === src.type;
    const mode = this.o.perms ? src.mode : same && this.o.dstPerms ? old.mode : undefined;
    const owner = this.o.owners ? src : same && this.o.dstOwners ? old : undefined;
    // Built field by field: spreads of optional parts cost more than the copy of a small file.
    const set: { mode?: string; uid?: number; gid?: number; mtime: string } = { mtime: src.mtime };
    if (mode !== undefined) set.mode = mode;
    if (owner !== undefined && IS_ROOT) {
      set.uid = owner.uid;
      set.gid = owner.gid;
    }
    return set;
  }

  private async copy(a: Action, abs: FsPath, job: Job): Promise<Outcome> {
    const src = a.src!;
    const tmp = tempBeside(abs);
    if (a.link !== undefined && this.guard.check(a.link) === undefined && this.linkable(a.link, src)) {
      this.hold(job, tmp);
      fs.linkSync(this.abs(a.link), tmp);
      return this.commit(a, tmp, abs, job);
    }
    const srcAbs = fsPathOf(this.o.src, a.path, a.path_b64);
    // A retry goes the usual way: its caller waits for it without flushing the queue. (A queued copy that fails removes its own temporary file.)
    if (this.queued(a) && job.attempt === 0) return this.copyQueued(a, srcAbs, tmp, abs, job);
    return this.copyHere(a, srcAbs, tmp, abs, job);
  }

  /** A copy made here, through Node (or fetched): the file's bytes, its attributes, then commit. */
  private async copyHere(a: Action, srcAbs: FsPath, tmp: FsPath, abs: FsPath, job: Job): Promise<Outcome> {
    const src = a.src!;
    this.hold(job, tmp);
    const { bytes, fd, made } = this.o.fetch !== undefined ? await this.o.fetch(a, tmp) : this.large(a) ? await copyIntoAsync(srcAbs, src, tmp) : copyInto(srcAbs, src, tmp, this.o.dstPerms);
    try {
      setAttrsFd(fd, this.attrsOf(src, a.expect), made);
      // A download is checked against the object's hash as it is written.
      if (this.o.verify && this.o.fetch === undefined) this.verify(srcAbs, src, tmp);
      // A file replacing another is made durable first: after a power cut the old or the new one, never an empty one.
      if (a.op === 'update' || this.o.fsync) fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    return { ...this.commit(a, tmp, abs, job), bytes };
  }

  /** A copy by the queue: as above, in the addon's thread; a sparse source comes back to be copied here. */
  private async copyQueued(a: Action, srcAbs: FsPath, tmp: FsPath, abs: FsPath, job: Job): Promise<Outcome> {
    const src = a.src!;
    const set = this.attrsOf(src, undefined);
    const { chown, mode } = attrCalls(set, MADE);
    const [mtimeSec, mtimeNsec] = timeParts(src.mtime);
    const r = await this.queue!.add(srcAbs, tmp, abs, {
      size: src.size ?? 0,
      mtimeSec,
      mtimeNsec,
      mode: mode ?? -1,
      uid: chown ? set.uid! : -1,
      gid: chown ? set.gid! : -1,
      fsync: this.o.fsync,
      root: this.o.dst,
    });
    if (r === 'sparse') return this.copyHere(a, srcAbs, tmp, abs, job);
    return { status: 'done', bytes: r };
  }

  /** A hard link may be made to the group's first path when it holds the source's content. */
  private linkable(link: string, src: EntryBody): boolean {
    const st = lstatOrNone(this.abs(link));
    // Times are set to the microsecond (see utimesSeconds): compare that far.
    return st !== undefined && (st.mode & 0o170000) === 0o100000 && st.size === src.size && formatTime(st.mtimeSec, st.mtimeNsec).slice(0, 26) === src.mtime.slice(0, 26);
  }

  private verify(srcAbs: FsPath, src: EntryBody, tmp: FsPath): void {
    const alg = src.hash !== undefined ? algOfHash(src.hash) : 'sha256';
    const want = src.hash ?? hashFile(srcAbs, alg);
    const got = hashFile(tmp, alg);
    if (got !== want) throw Object.assign(new Error(`EIO: verification failed: ${got} written, ${want} expected`), { code: 'EVERIFY' });
  }

  private async make(a: Action, abs: FsPath, job: Job): Promise<Outcome> {
    const src = a.src!;
    const tmp = tempBeside(abs);
    this.hold(job, tmp);
    if (a.op === 'symlink') makeSymlink(src, tmp);
    else await makeSpecial(src, tmp);
    setAttrs(tmp, this.attrsOf(src, a.expect), a.op === 'symlink');
    return this.commit(a, tmp, abs, job);
  }
}

/** The raw bytes of an action's path, as latin1 text (names that are not UTF-8 compare exactly). */
function rawKey(a: Action): string {
  return a.path_b64 !== undefined ? Buffer.from(a.path_b64, 'base64').toString('latin1') : Buffer.from(a.path, 'utf8').toString('latin1');
}

/** `a` (attributes of a directory) comes right after an action on that directory or inside it: it closes the directory. */
export function closes(prev: Action, a: Action): boolean {
  if (a.path === '.') return true;
  const dir = rawKey(a);
  const p = rawKey(prev);
  return p === dir || isInside(p, dir);
}
