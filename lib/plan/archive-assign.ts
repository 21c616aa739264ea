import { Kind, type Items } from './archive-items';

/** The medium and the format's arithmetic, as the budget gives it. */
export interface Capacity {
  medium: number;
  /** Cost of a volume before any object: the format's fixed overhead and the catalog files already there. */
  fixed: number;
  /** Descriptor bytes before any record (header line, end record), as counted in the descriptor's own size. */
  descFixed: number;
  /** What a `.cairn/` descriptor file of `bytes` costs on the medium, head and content. */
  descFile(bytes: number): number;
  /** Cost of `size` content bytes (rounding to blocks or sectors). */
  body(size: number): number;
  /** Extra head cost and descriptor bytes of a part over the whole file. */
  partHead: number;
  partDesc: number;
  /** Parts are cut at multiples of this, and none is smaller. */
  unit: number;
  minPart: number;
}

export interface AssignedVolume {
  volume: number;
  /** Upper bound of the bytes the medium needs. */
  bytes: number;
  files: number;
}

export type SortOrder = 'time' | 'alpha';

/**
 * Fills volumes first..first+count-1 with the wanted items in sort order:
 * each volume takes every item that still fits, in order (smaller later
 * items fill what a large one left), together with the directories above
 * it. A file larger than an empty medium is cut into parts that fill
 * volumes to the brim. Directory records, headers and descriptor lines are
 * counted as they are added; the descriptor file itself at its final size.
 */
export function assign(items: Items, order: number[], cap: Capacity, first: number, count: number, tombDesc: number): { volumes: AssignedVolume[]; left: number[] } {
  const volumes: AssignedVolume[] = [];
  // The top of an item's directory chain already on volume v: dirLast[d] === v.
  const dirLast = new Int32Array(items.n);
  let remaining = order;
  let catalog = cap.fixed;
  const emptyRoom = (): number => cap.medium - catalog - cap.descFile(cap.descFixed);
  for (let v = first; v < first + count && remaining.length > 0; v++) {
    let desc = cap.descFixed + (v === first ? tombDesc : 0);
    let used = catalog;
    let files = 0;
    let taken = 0;
    const room = (): number => cap.medium - used - cap.descFile(desc);
    const next: number[] = [];
    const ancestors = (i: number): [number, number] => {
      let head = 0;
      let d = 0;
      for (let p = items.parent[i]!; p >= 0 && dirLast[p] !== v; p = items.parent[p]!) {
        head += items.head[p]!;
        d += items.desc[p]!;
      }
      return [head, d];
    };
    // The whole chain of directories above: what the item needs on an empty volume.
    const allAncestors = (i: number): number => {
      let n = 0;
      for (let p = items.parent[i]!; p >= 0; p = items.parent[p]!) n += items.head[p]! + items.desc[p]!;
      return n;
    };
    const take = (i: number, head: number, d: number, anc: [number, number]): void => {
      for (let p = items.parent[i]!; p >= 0 && dirLast[p] !== v; p = items.parent[p]!) {
        dirLast[p] = v;
        items.put(p, v);
      }
      used += head + anc[0];
      desc += d + anc[1];
      if (items.kind[i] === Kind.Object) files++;
      taken++;
    };
    for (const i of remaining) {
      if (items.vol[i] !== 0 && items.kind[i] === Kind.Dir) continue; // already carried above a child
      if (items.kind[i] === Kind.Dir && dirLast[i] === v) continue;
      const anc = ancestors(i);
      if (items.parted[i] === 0) {
        const head = items.head[i]! + cap.body(items.size[i]!);
        const fits = head + anc[0] + cap.descFile(desc + items.desc[i]! + anc[1]) - cap.descFile(desc) <= room();
        if (fits) {
          take(i, head, items.desc[i]!, anc);
          if (items.kind[i] === Kind.Dir) dirLast[i] = v;
          items.put(i, v);
          continue;
        }
        // Too large for any medium: from now on it goes in parts.
        const whole = items.head[i]! + cap.body(items.size[i]!) + items.desc[i]! + allAncestors(i);
        if (items.kind[i] !== Kind.Object || items.size[i]! === 0 || whole <= emptyRoom() - 4 * cap.unit || items.noSplit.has(i)) {
          next.push(i);
          continue;
        }
        items.parted[i] = 1;
        if (!items.ranges.has(i)) items.ranges.set(i, [{ offset: 0, size: items.size[i]! }]);
      }
      // A parted file: store as much of its first missing range as fits.
      const ranges = items.ranges.get(i)!;
      const r = ranges[0]!;
      const head = items.head[i]! + cap.partHead;
      const d = items.desc[i]! + cap.partDesc;
      const free = room() - head - anc[0] - (cap.descFile(desc + d + anc[1]) - cap.descFile(desc));
      let size = Math.min(r.size, Math.floor(free / cap.unit) * cap.unit);
      while (size > 0 && cap.body(size) > free) size -= cap.unit;
      if (size < r.size && size < cap.minPart) {
        next.push(i);
        continue;
      }
      take(i, head + cap.body(size), d, anc);
      let parts = items.parts.get(i);
      if (parts === undefined) items.parts.set(i, (parts = []));
      parts.push({ volume: v, offset: r.offset, size });
      items.put(i, v);
      if (size === r.size) ranges.shift();
      else ranges[0] = { offset: r.offset + size, size: r.size - size };
      if (ranges.length > 0) next.push(i);
    }
    if (taken === 0) break;
    const bytes = used + cap.descFile(desc);
    volumes.push({ volume: v, bytes, files });
    // The next medium carries this volume's descriptor in its catalog.
    catalog += cap.descFile(desc);
    remaining = next;
  }
  return { volumes, left: remaining };
}
