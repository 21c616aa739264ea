import { contentDiffers, sameTime } from '../diff/compare';
import type { Move } from './moves';
import { isInside, keyOf } from '../records/order';
import { copiedBytes } from '../records/plan';
import { inVersions, isTemp } from '../records/reserved';
import { type Action, type Change, type CompareSettings, type EntryBody, type MetaSet, type PlanOp } from '../records/types';


export interface PlannerOptions {
  mode: 'mirror' | 'copy';
  settings: CompareSettings;
  /** Copy only files modified after this time (canonical time string). */
  newerThan?: string;
  lazyMkdir: boolean;
  /** Destination paths to delete (and never copy). */
  kill?: (path: string) => boolean;
  /** Directory (relative to the destination) keeping replaced and removed objects, or null. */
  versions: string | null;
  force: boolean;
  /** Destination can hold these (else such objects are left out, and counted). */
  symlinks: boolean;
  rootA?: EntryBody;
  rootB?: EntryBody;
  /** Directories get their times back after their contents change (bisync leaves directory times alone). */
  dirTimes?: boolean;
  /** --moves: the pairs found by a first pass (see moves.ts). */
  moves?: { byTo: Map<string, Move>; byFrom: Map<string, Move> };
}

export interface PlanStats {
  ops: Partial<Record<PlanOp, number>>;
  copyBytes: number;
  deleteBytes: number;
  deletes: number;
  /** Objects the plan leaves alone and why, e.g. 'unreadable on the source'. */
  skipped: Record<string, number>;
}

interface Frame {
  path: string;
  /** Actions to write when the subtree is done (rmdir, directory times, what replaces a directory). */
  exits: Action[];
  /** Written only when something inside the directory changed. */
  exitIfTouched: Action | undefined;
  touched: boolean;
  /** Nothing under this directory may be deleted (its source side could not be read). */
  protect: boolean;
  /** --lazy-mkdir: the mkdir not yet written, waiting for a file to go in. */
  pendingMkdir: Action | undefined;
}

const CHANGES_MEMBERS: ReadonlySet<PlanOp> = new Set(['mkdir', 'copy', 'update', 'symlink', 'special', 'move', 'remove', 'rmdir']);

const EPOCH = '1970-01-01T00:00:00.000000000Z';

function opaqueDir(e: EntryBody | undefined): boolean {
  return e !== undefined && e.type === 'dir' && (e.error !== undefined || e.unscanned !== undefined);
}


function withoutLink(e: EntryBody): EntryBody {
  if (e.link === undefined) return e;
  const { link: _, ...rest } = e;
  return rest;
}

/**
 * Turns a changes stream (canonical order) into actions in an order cairn-apply
 * can carry out while streaming: parents before children, removals of a
 * directory's contents before the directory, and a directory's times after
 * its contents. Holds only the current path's ancestors. Pure: no I/O.
 */
export class Planner {
  private readonly stack: Frame[] = [];
  private rootTouched = false;
  readonly stats: PlanStats = { ops: {}, copyBytes: 0, deleteBytes: 0, deletes: 0, skipped: {} };

  constructor(
    private readonly o: PlannerOptions,
    private readonly out: (a: Action) => void,
  ) {}

  private skip(why: string): void {
    this.stats.skipped[why] = (this.stats.skipped[why] ?? 0) + 1;
  }

  private emit(a: Action): void {
    if (CHANGES_MEMBERS.has(a.op)) {
      // Writing into a directory: make the directories that wait for it first (--lazy-mkdir), outermost first.
      for (const f of this.stack) {
        if (f.pendingMkdir !== undefined) {
          const m = f.pendingMkdir;
          f.pendingMkdir = undefined;
          this.touch(m.path);
          this.write(m);
        }
      }
      this.touch(a.path);
    }
    this.write(a);
  }

  /** The directory holding `path` changes: it gets its time back on the way out. */
  private touch(path: string): void {
    for (let i = this.stack.length - 1; i >= 0; i--) {
      const f = this.stack[i]!;
      if (isInside(path, f.path)) {
        f.touched = true;
        return;
      }
    }
    this.rootTouched = true;
  }

  private write(a: Action): void {
    const s = this.stats;
    s.ops[a.op] = (s.ops[a.op] ?? 0) + 1;
    s.copyBytes += copiedBytes(a);
    if (a.op === 'remove' || a.op === 'rmdir') {
      s.deletes++;
      s.deleteBytes += a.expect!.size ?? 0;
    }
    this.out(a);
  }

  private leave(path: string | undefined): void {
    const st = this.stack;
    while (st.length > 0) {
      const top = st[st.length - 1]!.path;
      if (path !== undefined && isInside(path, top)) break;
      const f = st.pop()!;
      if (f.pendingMkdir !== undefined) continue;
      for (const a of f.exits) this.emit(a);
      if (f.touched && f.exitIfTouched !== undefined) this.emit(f.exitIfTouched);
    }
  }

  private push(path: string, init: Partial<Frame> = {}): Frame {
    const f: Frame = { path, exits: [], exitIfTouched: undefined, touched: false, protect: false, pendingMkdir: undefined, ...init };
    this.stack.push(f);
    return f;
  }

  private get protectedHere(): boolean {
    return this.stack.some((f) => f.protect);
  }

  private keep(): { keep?: boolean } {
    return this.o.versions !== null ? { keep: true } : {};
  }

  /** The attributes to give an object: all of them when it is new, else those that differ. */
  private metaOf(a: EntryBody, b: EntryBody | undefined, mtime: 'always' | 'if-differs' | 'never'): MetaSet {
    const s = this.o.settings;
    const set: MetaSet = {};
    if (s.perms && a.type !== 'symlink' && (b === undefined || a.mode !== b.mode || this.o.force)) set.mode = a.mode;
    if (s.owners && (b === undefined || a.uid !== b.uid || a.gid !== b.gid || this.o.force)) {
      set.uid = a.uid;
      set.gid = a.gid;
    }
    if (mtime === 'always' || (mtime === 'if-differs' && b !== undefined && a.mtime !== b.mtime)) set.mtime = a.mtime;
    return set;
  }

  /** The action that makes a's object at a path where nothing is (or, with expect, replaces b). */
  private create(c: Change, a: EntryBody, expect: EntryBody | undefined): Action | undefined {
    const k = keyOf(c);
    const src = withoutLink(a);
    switch (a.type) {
      case 'file': {
        const link = this.o.settings.hardlinks && a.link !== undefined ? { link: a.link } : {};
        return expect ? { op: 'update', ...k, src, ...link, expect, ...this.keep() } : { op: 'copy', ...k, src, ...link };
      }
      case 'symlink':
        if (!this.o.symlinks) {
          this.skip('symlinks the destination cannot hold');
          return undefined;
        }
        return { op: 'symlink', ...k, src, ...(expect ? { expect, ...this.keep() } : {}) };
      case 'dir':
        return { op: 'mkdir', ...k, src };
      default:
        return { op: 'special', ...k, src, ...(expect ? { expect, ...this.keep() } : {}) };
    }
  }

  private older(a: EntryBody): boolean {
    return this.o.newerThan !== undefined && a.type === 'file' && a.mtime <= this.o.newerThan;
  }

  private remove(c: Change, b: EntryBody): void {
    if (b.type === 'dir') {
      // The contents come next as b-only records: removed first, the directory on the way out.
      // (A directory unreadable on the destination never gets here: feed() protects it.)
      this.push(c.path).exits.push({ op: 'rmdir', ...keyOf(c), expect: b, ...this.keep() });
      return;
    }
    this.emit({ op: 'remove', ...keyOf(c), expect: b, ...this.keep() });
  }

  /** Makes a directory and gives it its attributes once its contents are in. */
  private makeDir(c: Change, a: EntryBody, init: Partial<Frame> = {}): void {
    const mkdir: Action = { op: 'mkdir', ...keyOf(c), src: withoutLink(a) };
    const exit: Action = { op: 'meta', ...keyOf(c), set: this.metaOf(a, undefined, 'always') };
    if (this.o.lazyMkdir) {
      this.push(c.path, { ...init, exits: [exit], pendingMkdir: mkdir });
    } else {
      this.emit(mkdir);
      this.push(c.path, { ...init, exits: [exit] });
    }
  }

  /** Closes the directories that do not hold `path` (records fed elsewhere still move the plan on). */
  advance(path: string): void {
    this.leave(path);
  }

  feed(c: Change): void {
    this.leave(c.path);
    const o = this.o;
    if (inVersions(c.path)) {
      if ((c.a ?? c.b)!.type === 'dir') this.push(c.path, { protect: true });
      return;
    }
    // A directory whose contents are unknown on either side (unreadable, or a mount point
    // left unscanned): nothing under it is deleted, and it keeps its attributes.
    if (opaqueDir(c.a) || opaqueDir(c.b)) {
      if (c.a !== undefined && c.b === undefined && c.a.type === 'dir' && c.a.mtime !== undefined && c.a.unscanned === undefined) {
        return this.makeDir(c, c.a, { protect: true });
      }
      this.skip(opaqueDir(c.a) ? 'directories unreadable or unscanned on the source' : 'directories unreadable or unscanned on the destination');
      this.push(c.path, { protect: true });
      return;
    }
    // --kill names files: a directory is never killed wholesale.
    const killed = o.kill !== undefined && (c.b ?? c.a)!.type !== 'dir' && o.kill(c.path);
    switch (c.change) {
      case 'a-only':
        return this.aOnly(c, c.a!, killed);
      case 'b-only':
        return this.bOnly(c, c.b!, killed);
      case 'differ':
        return this.differ(c, c.a!, c.b!, killed);
      case 'same':
        return this.same(c, c.a!, c.b!, killed);
    }
  }

  private aOnly(c: Change, a: EntryBody, killed: boolean): void {
    if (killed || isTemp(c.path)) return;
    if (a.error !== undefined && (a.type !== 'dir' || a.mtime === undefined)) {
      this.skip('objects unreadable on the source');
      if (a.type === 'dir') this.push(c.path, { protect: true });
      return;
    }
    if (this.older(a)) return this.skip('files older than --newer-than');
    if (a.type === 'dir') return this.makeDir(c, a, a.error !== undefined ? { protect: true } : {});
    const move = this.o.moves?.byTo.get(c.path);
    if (move !== undefined) return this.moveIn(c, a, move);
    const act = this.create(c, a, undefined);
    if (act) this.emit(act);
  }

  private bOnly(c: Change, b: EntryBody, killed: boolean): void {
    const ours = isTemp(c.path);
    // --copy deletes nothing but what --kill names and its own leftovers.
    if (this.o.mode === 'copy' && !killed && !ours) return;
    if (this.protectedHere && !ours) return this.skip('deletions under a directory unreadable on the source');
    const move = this.o.moves?.byFrom.get(c.path);
    if (move !== undefined) return this.moveOut(move);
    this.remove(c, b);
  }

  /** --moves, at the source path: park the object if its new place comes later, else it has already gone. */
  private moveOut(m: Move): void {
    if (m.parked === undefined) {
      this.touchHere();
      return;
    }
    this.rootTouched = true;
    this.emit({ op: 'move', path: m.parked, from: m.from, ...(m.from_b64 !== undefined ? { from_b64: m.from_b64 } : {}), src: withoutLink(m.b), expect: m.b });
  }

  /** --moves, at the new path: move the object in (from where it is, or where it was parked), then fix its attributes. */
  private moveIn(c: Change, a: EntryBody, m: Move): void {
    const from = m.parked !== undefined ? { from: m.parked } : { from: m.from, ...(m.from_b64 !== undefined ? { from_b64: m.from_b64 } : {}) };
    this.emit({ op: 'move', ...keyOf(c), ...from, src: withoutLink(a), expect: m.b });
    // A parked object went through the root.
    if (m.parked !== undefined) this.rootTouched = true;
    const set = this.metaOf(a, m.b, a.mtime.slice(0, 26) !== m.b.mtime.slice(0, 26) ? 'always' : 'never');
    if (Object.keys(set).length > 0) this.emit({ op: 'meta', ...keyOf(c), set });
  }

  /** Something in the current directory changed outside an action here (a file moved out earlier). */
  private touchHere(): void {
    const top = this.stack[this.stack.length - 1];
    if (top !== undefined) top.touched = true;
    else this.rootTouched = true;
  }

  private same(c: Change, a: EntryBody, b: EntryBody, killed: boolean): void {
    if (killed && b.type !== 'dir') {
      this.emit({ op: 'remove', ...keyOf(c), expect: b, ...this.keep() });
      return;
    }
    if (a.type === 'dir') {
      this.push(c.path, this.o.dirTimes === false ? {} : { exitIfTouched: { op: 'meta', ...keyOf(c), set: { mtime: a.mtime }, expect: b } });
      return;
    }
    if (this.o.force && !this.older(a)) {
      const act = this.create(c, a, b);
      if (act) this.emit(act);
    }
  }

  private differ(c: Change, a: EntryBody, b: EntryBody, killed: boolean): void {
    const attrs = c.attrs!;
    if (killed) {
      if (b.type === 'dir') this.push(c.path, { protect: true });
      else this.emit({ op: 'remove', ...keyOf(c), expect: b, ...this.keep() });
      return;
    }
    if (a.error !== undefined) {
      // Unknown on the source: leave the destination as it is, and everything under it.
      this.skip('objects unreadable on the source');
      if (b.type === 'dir') this.push(c.path, { protect: true });
      return;
    }
    if (attrs.includes('type')) return this.retype(c, a, b);
    if (this.older(a)) return this.skip('files older than --newer-than');
    switch (a.type) {
      case 'dir': {
        const set = this.metaOf(a, b, this.o.dirTimes === false ? 'never' : 'always');
        this.push(c.path, Object.keys(set).length > 0 ? { exits: [{ op: 'meta', ...keyOf(c), set, expect: b }] } : {});
        return;
      }
      case 'file':
        if (this.o.force || contentDiffers(attrs, a, b) || attrs.includes('link')) {
          const act = this.create(c, a, b);
          if (act) this.emit(act);
          return;
        }
        break;
      case 'symlink':
        if (attrs.includes('target')) {
          const act = this.create(c, a, b);
          if (act) this.emit(act);
          return;
        }
        break;
      default:
        if (attrs.includes('rdev')) {
          this.emit(this.create(c, a, b)!);
          return;
        }
    }
    const set = this.metaOf(a, b, attrs.includes('mtime') ? 'always' : 'never');
    if (Object.keys(set).length > 0) this.emit({ op: 'meta', ...keyOf(c), set, expect: b });
  }

  /** The object changed type: replace it (a directory only once its contents are gone). */
  private retype(c: Change, a: EntryBody, b: EntryBody): void {
    if (b.type === 'dir') {
      if (this.o.mode === 'copy' || this.protectedHere) {
        this.skip(this.o.mode === 'copy' ? 'directories --copy would have to delete' : 'deletions under a directory unreadable on the source');
        this.push(c.path, { protect: true });
        return;
      }
      const after = this.create(c, a, undefined);
      const f = this.push(c.path);
      f.exits.push({ op: 'rmdir', ...keyOf(c), expect: b, ...this.keep() });
      if (after) f.exits.push(after);
      return;
    }
    if (a.type === 'dir') {
      this.emit({ op: 'remove', ...keyOf(c), expect: b, ...this.keep() });
      return this.makeDir(c, a);
    }
    const act = this.create(c, a, b);
    if (act) this.emit(act);
    else if (this.o.mode === 'mirror') this.emit({ op: 'remove', ...keyOf(c), expect: b, ...this.keep() });
  }

  /**
   * Something under `path` is left as it is (a conflict): the directories
   * holding it are not removed or replaced, and nothing more is deleted in them.
   */
  hold(path: string): void {
    for (const f of this.stack) {
      if (path !== f.path && !isInside(path, f.path)) continue;
      f.exits = f.exits.filter((a) => a.op === 'meta');
    }
  }

  /** Ends the plan: closes every open directory, then gives the root its attributes. */
  finish(): void {
    this.leave(undefined);
    const { rootA, rootB } = this.o;
    if (rootA === undefined || rootB === undefined || rootB.type !== 'dir') return;
    const set = this.metaOf(rootA, rootB, 'never');
    // A root whose time reads as the epoch keeps none (FAT's root directory); fusefat even dies when asked.
    const timed = rootB.mtime !== EPOCH;
    if (timed && (this.rootTouched || !sameTime(rootA.mtime, rootB.mtime, this.o.settings.mtime_window_ns, false))) set.mtime = rootA.mtime;
    if (Object.keys(set).length > 0) this.emit({ op: 'meta', path: '.', set, expect: rootB });
  }
}
