import { parseTimeNs } from '../records/time';
import { isInside, keyOf } from '../records/order';
import { readableName } from '../records/raw-names';
import { copiedBytes } from '../records/plan';
import { inVersions, isRenaming, isTemp } from '../records/reserved';
import type { Action, Caps, Change, CompareSettings, EntryBody, PlanOp, Side, SideChange } from '../records/types';
import { Planner } from './planner';

export type Prefer = 'newer' | 'older' | 'a' | 'b' | 'larger';
export const PREFERS: readonly Prefer[] = ['newer', 'older', 'a', 'b', 'larger'];

export interface BisyncOptions {
  settings: CompareSettings;
  capsA: Caps;
  capsB: Caps;
  prefer?: Prefer;
}

export interface BisyncStats {
  ops: Partial<Record<PlanOp, number>>;
  copyBytes: number;
  /** Removals per side. */
  deletes: Record<Side, number>;
  conflicts: number;
  /** Conflicts --prefer settled, keeping the loser. */
  resolved: number;
  skipped: Record<string, number>;
}

const changed = (c: SideChange | undefined): boolean => c !== undefined && c !== 'unchanged';
const other = (s: Side): Side => (s === 'a' ? 'b' : 'a');
const CREATES: ReadonlySet<PlanOp> = new Set(['mkdir', 'copy', 'update', 'symlink', 'special', 'move']);

/** What the state keeps of an object: no inode numbers or change times, which belong to one side. */
export function stateEntry(e: EntryBody): EntryBody {
  const { ino: _i, nlink: _n, dev: _d, ctime: _c, link: _l, user: _u, group: _g, ...rest } = e;
  return rest;
}

/**
 * The agreed entry of an object both sides hold alike: the finer time, and
 * modes and owners from a side that keeps them.
 */
export function agreedEntry(a: EntryBody, b: EntryBody, capsA: Caps, capsB: Caps): EntryBody {
  const [first, second, firstCaps, secondCaps] = capsB.mtime_precision_ns < capsA.mtime_precision_ns ? [b, a, capsB, capsA] : [a, b, capsA, capsB];
  const out = stateEntry(first);
  if (!firstCaps.perms && secondCaps.perms) out.mode = second.mode;
  if (!firstCaps.owners && secondCaps.owners) {
    out.uid = second.uid;
    out.gid = second.gid;
  }
  const hash = first.hash ?? second.hash;
  if (hash !== undefined) out.hash = hash;
  return out;
}

/** `<name>.conflict-<side>-<YYYYMMDD-HHMMSS><.ext>`, the time being the loser's (UTC). */
export function conflictName(path: string, side: Side, mtime: string): string {
  const slash = path.lastIndexOf('/');
  const dir = path.slice(0, slash + 1);
  const base = path.slice(slash + 1);
  const dot = base.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [base.slice(0, dot), base.slice(dot)] : [base, ''];
  const t = mtime.slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
  return `${dir}${stem}.conflict-${side}-${t}${ext}`;
}

/** conflictName for a record's key, on the raw bytes when the name is not UTF-8. */
function conflictKey(c: Pick<Change, 'path' | 'path_b64'>, side: Side, mtime: string): Pick<Action, 'path' | 'path_b64'> {
  if (c.path_b64 === undefined) return { path: conflictName(c.path, side, mtime) };
  const raw = Buffer.from(c.path_b64, 'base64');
  const slash = raw.lastIndexOf(0x2f);
  const base = raw.subarray(slash + 1);
  const dot = base.lastIndexOf(0x2e);
  const [stem, ext] = dot > 0 ? [base.subarray(0, dot), base.subarray(dot)] : [base, Buffer.alloc(0)];
  const mark = conflictName('x', side, mtime).slice(1);
  const named = Buffer.concat([raw.subarray(0, slash + 1), stem, Buffer.from(mark), ext]);
  return { path: readableName(named), path_b64: named.toString('base64') };
}

/** The change as seen from `from`: side a of the record is the source. */
function fromSide(c: Change, from: Side): Change {
  if (from === 'a') return c;
  const kind = c.change === 'a-only' ? 'b-only' : c.change === 'b-only' ? 'a-only' : c.change;
  const { a, b, ...rest } = c;
  return { ...rest, change: kind, ...(b ? { a: b } : {}), ...(a ? { b: a } : {}) } as Change;
}

function newer(x: EntryBody, y: EntryBody): boolean {
  return (parseTimeNs(x.mtime) ?? 0n) > (parseTimeNs(y.mtime) ?? 0n);
}

/**
 * cairn-plan --bisync: turns a three-way changes stream into actions on both
 * sides. Each one-sided change goes through a one-way planner (one per
 * direction), so both directions keep every rule of --mirror: parents first,
 * expect on everything existing, nothing deleted under an unreadable
 * directory. Conflicts become `conflict` records and touch neither side,
 * unless --prefer settles them, and then the loser is kept under a
 * conflict name on both sides. Every action says what the state records
 * once it is done. Holds only the current path's ancestors. Pure.
 */
export class BisyncPlanner {
  private readonly toA: Planner;
  private readonly toB: Planner;
  private current: Change | undefined;
  private currentState: EntryBody | undefined;
  /** Agreed entries of directories whose attributes are set on the way out (only ancestors of the current path). */
  private readonly dirStates = new Map<string, EntryBody>();
  /** A directory in conflict: its subtree is left alone on both sides. */
  private skipUnder: string | undefined;
  /** Directories one side deleted and the other still has (ancestors of the current path), outermost first. */
  private gone: Array<{ c: Change; by: Side; made: boolean }> = [];
  readonly stats: BisyncStats = { ops: {}, copyBytes: 0, deletes: { a: 0, b: 0 }, conflicts: 0, resolved: 0, skipped: {} };

  constructor(
    private readonly o: BisyncOptions,
    private readonly out: (a: Action) => void,
  ) {
    const planner = (to: Side) =>
      new Planner(
        { mode: 'mirror', settings: o.settings, lazyMkdir: false, versions: null, force: false, dirTimes: false, symlinks: (to === 'a' ? o.capsA : o.capsB).symlinks },
        (act) => this.write(this.tag(act, to)),
      );
    this.toA = planner('a');
    this.toB = planner('b');
  }

  private skip(why: string): void {
    this.stats.skipped[why] = (this.stats.skipped[why] ?? 0) + 1;
  }

  private write(a: Action): void {
    const s = this.stats;
    s.ops[a.op] = (s.ops[a.op] ?? 0) + 1;
    s.copyBytes += copiedBytes(a);
    if ((a.op === 'remove' || a.op === 'rmdir') && a.to !== undefined) s.deletes[a.to]++;
    this.out(a);
  }

  /** Which side an action of a one-way planner changes, and what the state records once it is done. */
  private tag(act: Action, to: Side): Action {
    let state: EntryBody | null | undefined;
    if (act.op === 'remove' || act.op === 'rmdir') state = null;
    else if (CREATES.has(act.op)) state = act.path === this.current?.path && this.currentState !== undefined ? this.currentState : stateEntry(act.src!);
    else if (act.op === 'meta') {
      state = act.path === this.current?.path ? this.currentState : this.dirStates.get(act.path);
      this.dirStates.delete(act.path);
    }
    return { ...act, to, ...(state !== undefined ? { state } : {}) };
  }

  feed(c: Change): void {
    this.toA.advance(c.path);
    this.toB.advance(c.path);
    for (const p of this.dirStates.keys()) if (p !== c.path && !isInside(c.path, p)) this.dirStates.delete(p);
    while (this.gone.length > 0 && !isInside(c.path, this.gone[this.gone.length - 1]!.c.path)) this.gone.pop();
    for (const by of ['a', 'b'] as const) {
      const kept = c[other(by)];
      if (c.base?.type === 'dir' && c[by] === undefined && kept?.type === 'dir') this.gone.push({ c, by, made: false });
    }
    this.current = c;
    this.currentState = undefined;
    if (this.skipUnder !== undefined && isInside(c.path, this.skipUnder)) return this.skip('objects inside a directory in conflict');
    this.skipUnder = undefined;
    if (inVersions(c.path)) {
      if ((c.a ?? c.b ?? c.base)!.type === 'dir') this.skipUnder = c.path;
      return;
    }
    // An object a stopped change of case left under its intermediate name: the user's, reported, left alone.
    if (isRenaming(c.path)) {
      this.stats.conflicts++;
      this.write({ op: 'conflict', ...keyOf(c), why: 'left by an interrupted change of case: give it back its name by hand', ...(c.a ? { a: c.a } : {}), ...(c.b ? { b: c.b } : {}) });
      return;
    }
    // Leftovers of an interrupted cairn-apply: removed where they are, never propagated.
    if (isTemp(c.path)) {
      for (const side of ['a', 'b'] as const) {
        const e = c[side];
        if (e !== undefined && e.type !== 'dir') this.write({ op: 'remove', ...keyOf(c), to: side, expect: e });
      }
      return;
    }
    if (c.conflict !== undefined) return this.conflict(c);
    if (c.a?.error !== undefined || c.b?.error !== undefined || c.a?.unscanned !== undefined || c.b?.unscanned !== undefined) {
      this.skip('objects unreadable or unscanned on one side');
      if (c.a?.type === 'dir' || c.b?.type === 'dir') {
        this.toA.hold(c.path);
        this.toB.hold(c.path);
        this.skipUnder = c.path;
      }
      return;
    }
    if (c.renamed !== undefined) return this.rename(c, c.renamed.side, c.renamed.from, c.renamed.from_b64);
    const ca = c.a_change;
    const cb = c.b_change;
    if (!changed(ca) && !changed(cb)) return;
    if (changed(ca) && changed(cb)) return this.bothChanged(c, ca!, cb!);
    this.propagate(c, changed(ca) ? 'a' : 'b');
  }

  /** Both sides changed the path alike (the diff found no conflict). */
  private bothChanged(c: Change, ca: SideChange, cb: SideChange): void {
    if (ca === 'deleted' && cb === 'deleted') {
      this.write({ op: 'agree', ...keyOf(c), state: null });
      return;
    }
    const a = c.a!;
    const b = c.b!;
    if (c.change === 'same') {
      this.write({ op: 'agree', ...keyOf(c), state: agreedEntry(a, b, this.o.capsA, this.o.capsB) });
      return;
    }
    // The side that changed the content wins over one that only touched it; else the newer one.
    const contentA = ca !== 'touched';
    const contentB = cb !== 'touched';
    const from: Side = contentA !== contentB ? (contentA ? 'a' : 'b') : a.type === 'dir' || !newer(b, a) ? 'a' : 'b';
    this.propagate(c, from);
  }

  /** Carries one side's change to the other side, through that direction's one-way planner. */
  private propagate(c: Change, from: Side): void {
    const to = other(from);
    const src = c[from];
    const dst = c[to];
    // An unchanged side holds the base's content: its hash is the base's.
    if (dst !== undefined && src !== undefined && dst.hash === undefined && c.base?.hash !== undefined && c[`${to}_change`] === 'unchanged') {
      c = { ...c, [to]: { ...dst, hash: c.base.hash } };
    }
    if (src !== undefined && dst !== undefined && c.change === 'same') {
      this.write({ op: 'agree', ...keyOf(c), state: agreedEntry(c.a!, c.b!, this.o.capsA, this.o.capsB) });
      return;
    }
    if (src !== undefined) {
      // The content is the source's; modes and owners the source cannot keep stay as the destination has them.
      const srcCaps = from === 'a' ? this.o.capsA : this.o.capsB;
      const st = stateEntry(src);
      if (dst !== undefined && dst.type === src.type) Object.assign(st, keptBy(dst, srcCaps));
      // Only attributes changed: the content, and its hash, are the base's.
      if (st.hash === undefined && st.type === 'file' && c.base?.hash !== undefined && c[`${from}_change`] === 'touched') st.hash = c.base.hash;
      this.currentState = st;
      if (src.type === 'dir') this.dirStates.set(c.path, st);
    }
    (to === 'b' ? this.toB : this.toA).feed(fromSide(c, from));
  }

  /**
   * A change of case (or normalization) on one side: the other side's object,
   * still under the old name, is renamed, then brought up to date if the
   * content changed too. The old name leaves the state with the move.
   */
  private rename(c: Change, t: Side, from: string, fromB64: string | undefined): void {
    if (c.conflict !== undefined) return this.conflict(c);
    const s = other(t);
    const old = c[t]!;
    const agreed = c.change === 'same' ? agreedEntry(c.a!, c.b!, this.o.capsA, this.o.capsB) : stateEntry(old);
    // The object is the base's, renamed: so is its hash.
    if (agreed.hash === undefined && c.base?.hash !== undefined && agreed.type === 'file' && c[`${t}_change`] === 'unchanged') agreed.hash = c.base.hash;
    this.write({ op: 'move', ...keyOf(c), from, ...(fromB64 !== undefined ? { from_b64: fromB64 } : {}), to: t, src: old, expect: old, state: agreed, why: `renamed on ${s}` });
    if (c.change === 'same') return;
    // Then the contents, from the side that changed them (both: the diff called it a conflict, or they agree).
    const cs = c[`${s}_change`];
    const ct = c[`${t}_change`];
    if (changed(ct) && !changed(cs)) this.propagate(c, t);
    else if (changed(cs) && !changed(ct)) this.propagate(c, s);
    else if (changed(cs) && changed(ct)) {
      // As for any path: a content change wins over a touch, else the newer.
      const contentS = cs !== 'touched';
      const contentT = ct !== 'touched';
      this.propagate(c, contentS !== contentT ? (contentS ? s : t) : newer(old, c[s]!) ? t : s);
    }
  }

  private conflict(c: Change): void {
    if (this.o.prefer !== undefined && this.settle(c, this.o.prefer)) {
      this.stats.resolved++;
      return;
    }
    this.stats.conflicts++;
    this.write({
      op: 'conflict',
      ...keyOf(c),
      why: c.conflict!,
      ...(c.a ? { a: c.a } : {}),
      ...(c.b ? { b: c.b } : {}),
      ...(c.base ? { base: c.base } : {}),
    });
    this.toA.hold(c.path);
    this.toB.hold(c.path);
    if (c.a?.type === 'dir' || c.b?.type === 'dir' || c.base?.type === 'dir') this.skipUnder = c.path;
  }

  /**
   * --prefer: settles a conflict between two objects, not both directories,
   * or a modification against a deletion (the modification always wins: a
   * deletion never destroys a change). A directory that loses is renamed
   * whole and reaches the other side on the next run. Returns false for what
   * it leaves as a conflict: two directories, a directory against a
   * deletion, changes inside a directory the other side removed, a
   * directory winning where the base had one, names a side cannot hold apart.
   */
  private settle(c: Change, prefer: Prefer): boolean {
    const a = c.a;
    const b = c.b;
    if (c.conflict!.includes(' inside a directory ')) return this.rescue(c);
    // Left as conflicts: names a side cannot hold apart.
    if (c.conflict!.startsWith('differs only in ') || c.renamed !== undefined) return false;
    if (a === undefined || b === undefined) {
      const survivor = (a ?? b)!;
      if (survivor.type === 'dir') return false;
      this.propagate(c, a !== undefined ? 'a' : 'b');
      return true;
    }
    if ((a.type === 'dir' && b.type === 'dir') || a.error !== undefined || b.error !== undefined) return false;
    const winner: Side =
      prefer === 'a' || prefer === 'b'
        ? prefer
        : prefer === 'larger' && (a.size ?? 0) !== (b.size ?? 0)
          ? (a.size ?? 0) > (b.size ?? 0)
            ? 'a'
            : 'b'
          : prefer === 'older'
            ? newer(a, b) ? 'b' : 'a'
            : newer(b, a) ? 'b' : 'a';
    const loser = other(winner);
    const lost = c[loser]!;
    // A directory that wins over a file takes its contents along only when the base knew no directory
    // there: else the loser's side reads as having deleted them, and they would go.
    if (c[winner]!.type === 'dir' && c.base?.type === 'dir') return false;
    const keptAs = conflictKey(c, loser, lost.mtime);
    // The loser steps aside under its conflict name, the winner takes its place, and the loser is copied across.
    const from = c.path_b64 !== undefined ? { from: c.path, from_b64: c.path_b64 } : { from: c.path };
    this.write({ op: 'move', ...keptAs, ...from, to: loser, src: lost, expect: lost, free_name: true, why: `conflict (${c.conflict}): kept, --prefer ${prefer}` });
    this.currentState = stateEntry(c[winner]!);
    const place: Change = { ...keyOf(c), change: 'a-only', a: c[winner]! };
    (loser === 'b' ? this.toB : this.toA).feed(place);
    // A directory that lost is kept, whole, under its conflict name on its side; the next run carries it across.
    if (lost.type === 'dir') {
      this.skipUnder = c.path;
      return true;
    }
    const across = { ...keptAs, to: winner, src: stateEntry(lost), state: stateEntry(lost) };
    if (lost.type === 'file') this.write({ op: 'copy', ...across });
    else if (lost.type === 'symlink') {
      if ((winner === 'a' ? this.o.capsA : this.o.capsB).symlinks) this.write({ op: 'symlink', ...across });
    } else this.write({ op: 'special', ...across });
    return true;
  }

  /**
   * --prefer, for a change inside a directory the other side deleted: the
   * change wins (a deletion never destroys a change). The directories on the
   * way are made again on the side that deleted them, then the object is
   * carried there. Inside a directory replaced by another object, nothing
   * can be made: left as a conflict.
   */
  private rescue(c: Change): boolean {
    if (c.conflict!.includes(' inside a directory replaced on ')) return false;
    const from: Side | undefined = c.a_change !== undefined && c.a_change !== 'unchanged' && c.a_change !== 'deleted' ? 'a' : c.b_change !== undefined && c.b_change !== 'unchanged' && c.b_change !== 'deleted' ? 'b' : undefined;
    if (from === undefined || c[from] === undefined) return false;
    const to = other(from);
    const ways = this.gone.filter((g) => g.by === to && isInside(c.path, g.c.path));
    // Every directory between the root and the object must be one the other side deleted, or still there.
    if (ways.length === 0 || c[to] !== undefined) return false;
    const planner = to === 'a' ? this.toA : this.toB;
    for (const g of ways) {
      if (g.made) continue;
      g.made = true;
      this.current = g.c;
      this.currentState = stateEntry(g.c[from]!);
      planner.feed(fromSide({ ...g.c, change: from === 'a' ? 'a-only' : 'b-only' }, from));
    }
    this.current = c;
    this.currentState = undefined;
    this.propagate(c, from);
    // The directories stay on the side that kept them too: no removal of them is planned there.
    (from === 'a' ? this.toA : this.toB).hold(c.path);
    return true;
  }

  finish(): void {
    this.current = undefined;
    this.toA.finish();
    this.toB.finish();
  }
}

/** The attributes of `e` that a side with these caps cannot keep (modes, owners). */
function keptBy(e: EntryBody, caps: Caps): Partial<EntryBody> {
  return {
    ...(!caps.perms ? { mode: e.mode } : {}),
    ...(!caps.owners ? { uid: e.uid, gid: e.gid } : {}),
  };
}
