import type { Range } from './archive-decide';

/** What an item of the archive spool is. */
export const enum Kind {
  Dir = 0,
  Object = 1,
  Tombstone = 2,
}

function grow<T extends Float64Array | Int32Array | Uint8Array>(a: T, n: number): T {
  if (n < a.length) return a;
  const b = new (a.constructor as new (n: number) => T)(Math.max(1024, a.length * 2));
  b.set(a);
  return b;
}

/**
 * The objects the archive planner keeps while it decides, in spool order
 * (canonical order): columns of numbers, not objects, so that a first run
 * over a million files stays compact. The records themselves are in the
 * spool file, read again when the plan is written.
 */
export class Items {
  n = 0;
  kind = new Uint8Array(1024);
  /** Index of the parent directory's item, -1 at the top. */
  parent = new Int32Array(1024);
  /** Format cost of the object without its content (headers, records). */
  head = new Float64Array(1024);
  /** Bytes of its line in the volume descriptor. */
  desc = new Float64Array(1024);
  /** Content bytes still to store (files). */
  size = new Float64Array(1024);
  /** Modification time in seconds, for --sort time. */
  mtime = new Float64Array(1024);
  /** 1: the catalog does not have it; it is a candidate. */
  wanted = new Uint8Array(1024);
  /** 1: a file stored in parts (larger than a medium, or the rest of one). */
  parted = new Uint8Array(1024);
  /** The (first) volume the item goes to; 0: none. */
  vol = new Int32Array(1024);
  /** Further volumes of a directory that is the ancestor of objects on several volumes. */
  readonly more = new Map<number, number[]>();
  /** Byte ranges of a parted file still to store. */
  readonly ranges = new Map<number, Range[]>();
  /** Files whose name cannot take a part's suffix (over 255 bytes then): never split. */
  readonly noSplit = new Set<number>();
  /** Parts assigned: item -> [{volume, offset, size}]. */
  readonly parts = new Map<number, { volume: number; offset: number; size: number }[]>();

  add(kind: Kind, parent: number, head: number, desc: number, size: number, mtime: number, wanted: boolean): number {
    const i = this.n++;
    if (i >= this.kind.length) {
      this.kind = grow(this.kind, i);
      this.parent = grow(this.parent, i);
      this.head = grow(this.head, i);
      this.desc = grow(this.desc, i);
      this.size = grow(this.size, i);
      this.mtime = grow(this.mtime, i);
      this.wanted = grow(this.wanted, i);
      this.parted = grow(this.parted, i);
      this.vol = grow(this.vol, i);
    }
    this.kind[i] = kind;
    this.parent[i] = parent;
    this.head[i] = head;
    this.desc[i] = desc;
    this.size[i] = size;
    this.mtime[i] = mtime;
    this.wanted[i] = wanted ? 1 : 0;
    return i;
  }

  /** Is item i on volume v? */
  on(i: number, v: number): boolean {
    if (this.vol[i] === v) return true;
    const more = this.more.get(i);
    return more !== undefined && more.includes(v);
  }

  /** Records that item i goes on volume v. */
  put(i: number, v: number): void {
    if (this.vol[i] === 0) this.vol[i] = v;
    else if (this.vol[i] !== v) {
      const more = this.more.get(i);
      if (more === undefined) this.more.set(i, [v]);
      else if (!more.includes(v)) more.push(v);
    }
  }
}
