import { compareKeyed, isInside } from '../records/order';
import { inVersions, isTemp } from '../records/reserved';
import { TEMP_PREFIX, type Change, type EntryBody } from '../records/types';

/** A file the plan moves instead of copying it anew and deleting the old one. */
export interface Move {
  /** Where the object is now (a b-only path). */
  from: string;
  from_b64?: string;
  /** Where it goes (an a-only path). */
  to: string;
  to_b64?: string;
  /** The object at `from`, as scanned. */
  b: EntryBody;
  /** The source comes first in canonical order: it is parked under a temporary name on the way. */
  parked?: string;
}

function keys(e: EntryBody, path: string): string[] {
  // Times to the microsecond: a copy made by cairn-apply keeps no more.
  const base = path.slice(path.lastIndexOf('/') + 1);
  const out = [`s:${e.size}:${e.mtime.slice(0, 26)}:${base}`];
  if (e.hash !== undefined) out.unshift(`h:${e.hash}`);
  return out;
}

interface Frame {
  path: string;
  /** The destination directory goes away (removed, or replaced by a non-directory). */
  removed: boolean;
  /** The source side could not be read: nothing under it is deleted, so nothing moves out. */
  protect: boolean;
}

/**
 * --moves, first pass: pairs files that disappear from the destination with
 * files that appear, by content (same hash) or by size, time and name.
 * Holds the added and removed files (not the tree) until the pairs are made.
 */
export class MoveFinder {
  private readonly stack: Frame[] = [];
  private readonly removed = new Map<string, Change[]>();
  private readonly added: Change[] = [];

  /** @param leftOut changes the plan leaves alone (--newer-than, --kill): they take part in no move */
  constructor(private readonly leftOut: (c: Change) => boolean = () => false) {}

  see(c: Change): void {
    const st = this.stack;
    while (st.length > 0) {
      const top = st[st.length - 1]!.path;
      if (isInside(c.path, top)) break;
      st.pop();
    }
    const inside = st.some((f) => f.removed || f.protect);
    const a = c.a;
    const b = c.b;
    if ((a?.type ?? b!.type) === 'dir' || b?.type === 'dir') {
      st.push({
        path: c.path,
        removed: c.change === 'b-only' || (c.change === 'differ' && a!.type !== 'dir'),
        protect: [a, b].some((e) => e !== undefined && (e.error !== undefined || e.unscanned !== undefined)),
      });
      return;
    }
    if (isTemp(c.path) || inVersions(c.path) || this.leftOut(c)) return;
    if (c.change === 'b-only' && b!.type === 'file' && b!.error === undefined && !inside) {
      for (const k of keys(b!, c.path)) {
        const list = this.removed.get(k);
        if (list) list.push(c);
        else this.removed.set(k, [c]);
      }
    } else if (c.change === 'a-only' && a!.type === 'file' && a!.error === undefined && a!.link === undefined) {
      this.added.push(c);
    }
  }

  /** The pairs, by destination path and by source path. */
  pairs(): { byTo: Map<string, Move>; byFrom: Map<string, Move> } {
    const byTo = new Map<string, Move>();
    const byFrom = new Map<string, Move>();
    let parked = 0;
    for (const c of this.added) {
      for (const k of keys(c.a!, c.path)) {
        const list = this.removed.get(k);
        // Two hashes that differ are two contents, whatever the names and times say.
        const from = list?.find((x) => !byFrom.has(x.path) && !(c.a!.hash !== undefined && x.b!.hash !== undefined && c.a!.hash !== x.b!.hash));
        if (from === undefined) continue;
        const m: Move = {
          from: from.path,
          ...(from.path_b64 !== undefined ? { from_b64: from.path_b64 } : {}),
          to: c.path,
          ...(c.path_b64 !== undefined ? { to_b64: c.path_b64 } : {}),
          b: from.b!,
        };
        if (compareKeyed(from, c) < 0) m.parked = `${TEMP_PREFIX}move.${process.pid}.${++parked}`;
        byTo.set(c.path, m);
        byFrom.set(from.path, m);
        break;
      }
    }
    return { byTo, byFrom };
  }
}
