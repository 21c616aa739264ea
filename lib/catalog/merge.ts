import { MORE } from '../records/stream-reader';
import { compareKeyed, type Keyed } from '../records/order';
import type { VolumeRecord } from '../records/types';
import { MinHeap } from '../tree/local/min-heap';
import type { VolumeReader } from './open';

/** A record of the catalog and the volume that holds it. */
export interface Held {
  volume: number;
  rec: VolumeRecord;
}

/** Every record the catalog holds for one path, newest volume first. */
export interface Group {
  path: string;
  path_b64?: string;
  held: Held[];
}

interface Head {
  volume: number;
  reader: VolumeReader;
  rec: VolumeRecord;
}

/**
 * The union of the descriptors as one stream of path groups in canonical
 * order: a k-way merge, so memory is the read buffers, whatever the catalog
 * holds. Callers walk it alongside the source entries with until().
 */
export class CatalogMerge {
  private readonly heap = new MinHeap<Head>((a, b) => {
    const c = compareKeyed(a.rec, b.rec);
    return c < 0 || (c === 0 && a.volume > b.volume);
  });

  private constructor() {}

  static async open(volumes: { volume: number; reader: VolumeReader }[]): Promise<CatalogMerge> {
    const m = new CatalogMerge();
    for (const v of volumes) await m.advance(v.volume, v.reader);
    return m;
  }

  private async advance(volume: number, reader: VolumeReader): Promise<void> {
    for (;;) {
      const r = reader.take();
      if (r === undefined) return;
      if (r === MORE) {
        await reader.more();
        continue;
      }
      this.heap.push({ volume, reader, rec: r });
      return;
    }
  }

  /**
   * Hands every group before `key` to `before` (all of them when key is
   * undefined), then returns the group of `key` itself, if the catalog has it.
   */
  async until(key: Keyed | undefined, before: (g: Group) => void): Promise<Group | undefined> {
    for (;;) {
      const top = this.heap.peek();
      if (top === undefined) return undefined;
      const cmp = key === undefined ? -1 : compareKeyed(top.rec, key);
      if (cmp > 0) return undefined;
      const group: Group = { path: top.rec.path, held: [] };
      if (top.rec.path_b64 !== undefined) group.path_b64 = top.rec.path_b64;
      while (this.heap.size > 0 && compareKeyed(this.heap.peek()!.rec, top.rec) === 0) {
        const h = this.heap.pop()!;
        group.held.push({ volume: h.volume, rec: h.rec });
        await this.advance(h.volume, h.reader);
      }
      if (cmp === 0) return group;
      before(group);
    }
  }
}
