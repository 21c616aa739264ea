import { heapGuard } from '../cli/heap-guard';
import { compareKeyed, isInside, keyOf } from '../records/order';
import type { Attr, Change, ChangeKind, CompareSettings, Entry, EntryBody, HashAlg, Side as SideName, SideChange } from '../records/types';
import { compareEntries } from './compare';
import { Side, body, type EntriesReader } from './diff';
import { MORE } from '../records/stream-reader';
import type { FoldGroup, Spelling } from './fold-groups';
import type { Folding } from './fold-name';

export interface ThreeWayOptions {
  /** A against B, base against A, base against B: each pair at its own coarser precision. */
  ab: CompareSettings;
  baseA: CompareSettings;
  baseB: CompareSettings;
  all: boolean;
  alg: HashAlg;
  /** Hash one side's file (content decides where metadata cannot). */
  hash: (side: SideName, e: Entry, alg: HashAlg) => { hash: string } | { error: string };
  emit: (c: Change) => void;
  keep?: (e: Entry) => boolean;
  keepA?: (e: Entry) => boolean;
  keepB?: (e: Entry) => boolean;
  pause: () => Promise<void>;
  interrupted: () => boolean;
  /** Siblings whose names fold together (see fold-groups.ts), and the sides that fold them. */
  groups?: Map<string, FoldGroup>;
  folds?: Record<SideName, boolean>;
  /** What folds names: for messages. */
  folding?: Folding;
}

/** Counts the plan's safety rails need (see cairn-plan --bisync). */
export interface ThreeWayCounts {
  a: number;
  b: number;
  base: number;
  differences: number;
  conflicts: number;
  /** Files present in the base and on the side, and of those the ones whose time changed. */
  a_common: number;
  a_retimed: number;
  b_common: number;
  b_retimed: number;
}

const CONTENT: readonly Attr[] = ['type', 'size', 'hash', 'target', 'rdev'];

/** Directory times say only that the contents changed, which the contents say for themselves. */
function attrsOf(x: EntryBody, y: EntryBody, s: CompareSettings): Attr[] {
  const attrs = compareEntries(x, y, s);
  if (attrs.length === 0) return attrs;
  return (x.type === 'dir' && y.type === 'dir' ? attrs.filter((a) => a !== 'mtime') : attrs).filter((a) => a !== 'link');
}

interface Frame {
  path: string;
  /** What a side did to this base directory, when it is no longer a directory there. */
  goneA: 'deleted' | 'replaced' | undefined;
  goneB: 'deleted' | 'replaced' | undefined;
}

const opaque = (e: EntryBody | undefined): boolean => e?.type === 'dir' && (e.error !== undefined || e.unscanned !== undefined);
const pull = (s: Side): Promise<Entry | undefined> | Entry | undefined => {
  const t = s.take();
  return t === MORE ? s.next() : t;
};
const changed = (c: SideChange | undefined): boolean => c !== undefined && c !== 'unchanged';
const other = (s: SideName): SideName => (s === 'a' ? 'b' : 'a');

/**
 * The three-way merge-join of a base (the state of the last sync) with both
 * sides, in canonical order: for every path, what each side did since the
 * base and whether both changes can be kept. Holds only the ancestors of the
 * current path. Pure but for the lazy hashing it is given.
 */
export async function diffThreeWay(rbase: EntriesReader, ra: EntriesReader, rb: EntriesReader, o: ThreeWayOptions): Promise<ThreeWayCounts> {
  const counts: ThreeWayCounts = { a: 0, b: 0, base: 0, differences: 0, conflicts: 0, a_common: 0, a_retimed: 0, b_common: 0, b_retimed: 0 };
  const so = new Side(rbase, o.keep);
  const sa = new Side(ra, o.keepA);
  const sb = new Side(rb, o.keepB);
  let eo = await so.next();
  let ea = await sa.next();
  let eb = await sb.next();
  const stack: Frame[] = [];
  const guard = heapGuard(48 << 20, 8);
  let steps = 0;

  /** Hashes a side's file unless it has a hash of the algorithm already; false if it cannot be read. */
  const hashed = (side: SideName, e: Entry): boolean => {
    if (e.hash !== undefined && e.hash.startsWith(`${o.alg}:`)) return true;
    const r = o.hash(side, e, o.alg);
    if ('hash' in r) e.hash = r.hash;
    return 'hash' in r;
  };

  /** What one side did to the base's object at this path. */
  const classify = (side: SideName, base: EntryBody | undefined, bd: Entry | undefined): SideChange | undefined => {
    if (bd === undefined) return base === undefined ? undefined : 'deleted';
    if (base === undefined) return 'new';
    let attrs = attrsOf(base, bd, side === 'a' ? o.baseA : o.baseB);
    if (attrs.length > 0) attrs = attrs.filter((x) => x !== 'error');
    if (base.type === 'file' && bd.type === 'file') {
      const retimed = attrs.includes('mtime');
      if (side === 'a') {
        counts.a_common++;
        if (retimed) counts.a_retimed++;
      } else {
        counts.b_common++;
        if (retimed) counts.b_retimed++;
      }
    }
    if (attrs.length === 0) return 'unchanged';
    if (attrs.some((x) => CONTENT.includes(x))) return 'modified';
    // A new time over the same content (the base knows its hash) is only a touch.
    if (attrs.includes('mtime')) {
      return base.hash !== undefined && bd.error === undefined && hashed(side, bd) && bd.hash === base.hash ? 'touched' : 'modified';
    }
    return 'touched';
  };

  while (eo !== undefined || ea !== undefined || eb !== undefined) {
    if (++steps >= 512) {
      steps = 0;
      guard();
      await o.pause();
      if (o.interrupted()) break;
    }
    // The smallest path among the three heads, and who has it.
    let key: Entry = (eo ?? ea ?? eb)!;
    if (ea !== undefined && ea !== key && compareKeyed(ea, key) < 0) key = ea;
    if (eb !== undefined && eb !== key && compareKeyed(eb, key) < 0) key = eb;
    const x = eo !== undefined && compareKeyed(eo, key) === 0 ? eo : undefined;
    const a = ea !== undefined && compareKeyed(ea, key) === 0 ? ea : undefined;
    const b = eb !== undefined && compareKeyed(eb, key) === 0 ? eb : undefined;
    if (x) counts.base++;
    if (a) counts.a++;
    if (b) counts.b++;
    while (stack.length > 0 && !isInside(key.path, stack[stack.length - 1]!.path)) stack.pop();

    const group = o.groups?.get(key.path);
    const rename = group !== undefined ? renameIn(group) : undefined;
    if (rename !== undefined && rename.from.path === key.path) {
      // Handled at the new spelling: one move on the side that still has the old one.
      if (x) eo = await pull(so);
      if (a) ea = await pull(sa);
      if (b) eb = await pull(sb);
      continue;
    }
    const held = rename !== undefined ? rename.from[rename.t] : undefined;
    const baseEntry = rename !== undefined ? (rename.from.base ?? rename.to.base) : x;
    // Entries are compared as they are (hashes computed are added to them); bodies are made only for what is written.
    const base: Entry | undefined = baseEntry;
    const ba: Entry | undefined = a ?? (rename?.t === 'a' ? held : undefined);
    const bb: Entry | undefined = b ?? (rename?.t === 'b' ? held : undefined);
    const ca = classify('a', base, ba);
    const cb = classify('b', base, bb);

    let kind: ChangeKind;
    let attrs: Attr[] = [];
    let unreadable: string | undefined;
    if (ba && bb) {
      attrs = attrsOf(ba, bb, o.ab);
      // Both sides changed a file to the same size: the content decides whether they agree.
      if (ba.type === 'file' && bb.type === 'file' && ba.size === bb.size && changed(ca) && changed(cb)) {
        if (ba.error === undefined && bb.error === undefined && hashed('a', ba) && hashed('b', bb)) attrs = attrsOf(ba, bb, o.ab);
        // Metadata cannot tell two changes to the same size apart: unread content is never taken as equal.
        else unreadable = 'changed on both sides, and the content of one could not be read to compare';
      }
      kind = attrs.length > 0 ? 'differ' : 'same';
    } else kind = ba ? 'a-only' : bb ? 'b-only' : 'base-only';

    let conflict: string | undefined = group !== undefined && rename === undefined ? collision(group, key.path, ba, bb, ca, cb, o) : undefined;
    for (const f of stack) {
      for (const s of ['a', 'b'] as const) {
        const gone = s === 'a' ? f.goneA : f.goneB;
        const theirs = s === 'a' ? cb : ca;
        if (conflict === undefined && gone !== undefined && changed(theirs) && theirs !== 'deleted') {
          conflict = `${theirs} on ${other(s)} inside a directory ${gone} on ${s} (${f.path})`;
        }
      }
    }
    if (conflict === undefined && changed(ca) && changed(cb)) conflict = unreadable ?? bothChanged(ca!, cb!, ba, bb, attrs);
    if (conflict !== undefined) counts.conflicts++;
    if (base?.type === 'dir' && (ba?.type !== 'dir' || bb?.type !== 'dir')) {
      stack.push({
        path: key.path,
        goneA: ba?.type === 'dir' ? undefined : ba ? 'replaced' : 'deleted',
        goneB: bb?.type === 'dir' ? undefined : bb ? 'replaced' : 'deleted',
      });
    }

    // A directory whose contents are unknown on a side (unreadable, unscanned) is written, so that the plan leaves its subtree alone.
    const interesting = rename !== undefined || changed(ca) || changed(cb) || kind !== 'same' || opaque(ba) || opaque(bb);
    if (interesting || o.all) {
      if (interesting) counts.differences++;
      o.emit({
        ...keyOf(key),
        change: kind,
        ...(kind === 'differ' ? { attrs } : {}),
        ...(ba ? { a: body(ba, undefined) } : {}),
        ...(bb ? { b: body(bb, undefined) } : {}),
        ...(base ? { base: body(base, undefined) } : {}),
        ...(ca ? { a_change: ca } : {}),
        ...(cb ? { b_change: cb } : {}),
        ...(conflict !== undefined ? { conflict } : {}),
        ...(rename !== undefined ? { renamed: { side: rename.t, from: rename.from.path, ...(rename.from.path_b64 !== undefined ? { from_b64: rename.from.path_b64 } : {}) } } : {}),
      });
    }
    if (x) {
      const t = so.take();
      eo = t === MORE ? await so.next() : t;
    }
    if (a) {
      const t = sa.take();
      ea = t === MORE ? await sa.next() : t;
    }
    if (b) {
      const t = sb.take();
      eb = t === MORE ? await sb.next() : t;
    }
  }
  return counts;
}

/**
 * Both sides changed the path: a conflict unless the changes agree (the
 * same content), or one only touched what the other really changed.
 */
function bothChanged(ca: SideChange, cb: SideChange, ba: EntryBody | undefined, bb: EntryBody | undefined, attrs: readonly Attr[]): string | undefined {
  if (ca === 'deleted' && cb === 'deleted') return undefined;
  if (ca === 'deleted' || cb === 'deleted') return ca === 'deleted' ? `${cb} on b, deleted on a` : `${ca} on a, deleted on b`;
  if (!attrs.some((x) => CONTENT.includes(x))) return undefined;
  if (ba!.type === 'dir' && bb!.type === 'dir') return undefined;
  // A new time or mode over the old content yields to a new content.
  if ((ca === 'touched') !== (cb === 'touched') && !attrs.includes('type')) return undefined;
  if (ca === 'new' && cb === 'new') return 'new on both sides, different';
  return `${ca} on a, ${cb} on b, different`;
}

/**
 * One object under two spellings (case, or normalization) that a side
 * folds together: each side holds exactly one spelling. The side whose
 * spelling the base does not know renamed it (on a first run, side a's
 * spelling wins); the other side's object is renamed to match, and the
 * contents are then compared as for any path. Not for directories (their
 * subtrees change paths too).
 */
function renameIn(g: FoldGroup): { s: SideName; t: SideName; from: Spelling; to: Spelling } | undefined {
  const onA = g.filter((sp) => sp.a !== undefined);
  const onB = g.filter((sp) => sp.b !== undefined);
  const inBase = g.filter((sp) => sp.base !== undefined);
  if (onA.length !== 1 || onB.length !== 1 || onA[0] === onB[0] || inBase.length > 1) return undefined;
  if (g.some((sp) => sp.a?.type === 'dir' || sp.b?.type === 'dir' || sp.base?.type === 'dir')) return undefined;
  const known = inBase[0];
  // The side whose spelling the base does not know is the one that renamed.
  const s: SideName | undefined = known === undefined || known === onB[0] ? 'a' : known === onA[0] ? 'b' : undefined;
  if (s === undefined) return undefined;
  const t = other(s);
  return { s, t, from: (t === 'a' ? onA : onB)[0]!, to: (s === 'a' ? onA : onB)[0]! };
}

/**
 * A name that a side folding names would have to hold beside another
 * spelling of it (README and readme going to FAT): a conflict, never an
 * overwrite.
 */
function collision(g: FoldGroup, path: string, ba: EntryBody | undefined, bb: EntryBody | undefined, ca: SideChange | undefined, cb: SideChange | undefined, o: ThreeWayOptions): string | undefined {
  for (const t of ['a', 'b'] as const) {
    if (!o.folds?.[t]) continue;
    const mine = t === 'a' ? ba : bb;
    const theirs = t === 'a' ? bb : ba;
    const change = t === 'a' ? cb : ca;
    if (mine !== undefined || theirs === undefined || !changed(change)) continue;
    const rival = g.find((sp) => sp.path !== path && (sp.a !== undefined || sp.b !== undefined));
    if (rival === undefined) continue;
    const mineName = path.slice(path.lastIndexOf('/') + 1);
    const rivalName = rival.path.slice(rival.path.lastIndexOf('/') + 1);
    const what = mineName.normalize('NFC') === rivalName.normalize('NFC') ? 'normalization' : 'case';
    return `differs only in ${what} from ${JSON.stringify(rival.path.slice(rival.path.lastIndexOf('/') + 1))}: side ${t} cannot hold both`;
  }
  return undefined;
}
