import * as fs from 'node:fs';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { spawnSync } from 'node:child_process';
import { ENTRIES } from '../records/entries';
import { compareKeyed, type Keyed } from '../records/order';
import { StreamReader } from '../records/stream-reader';
import { TEMP_PREFIX, type EntriesHeader, type Entry, type EntryBody } from '../records/types';
import { NdjsonWriter } from '../records/writer';

interface Delta {
  key: Keyed;
  entry: EntryBody | null;
}

/**
 * The bisync state of a pair: the old state file plus what this run agreed
 * on, written as a new entries stream in canonical order. Only changed paths
 * are held in memory; the old state is streamed, from the file as it was
 * when the run began (kept open, so checkpoints can replace it).
 */
export class StateStore {
  private readonly deltas = new Map<string, Delta>();
  private readonly oldFd: number | undefined;
  private dirty = false;

  constructor(
    private readonly file: string,
    private readonly header: EntriesHeader,
    /** Roots whose data must be on disk before the state says it is there. */
    private readonly roots: string[],
  ) {
    try {
      this.oldFd = fs.openSync(file, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }

  set(key: Keyed, entry: EntryBody | null): void {
    const k = key.path_b64 !== undefined ? `b64:${key.path_b64}` : key.path;
    this.deltas.set(k, { key: key.path_b64 !== undefined ? { path: key.path, path_b64: key.path_b64 } : { path: key.path }, entry });
    this.dirty = true;
  }

  get changed(): boolean {
    return this.dirty;
  }

  /** Writes the state atomically: data synced first, then a temporary file, fsynced, renamed over the old one. */
  async write(): Promise<void> {
    for (const root of this.roots) spawnSync('sync', ['-f', root], { stdio: 'ignore' });
    const sorted = [...this.deltas.values()].sort((x, y) => compareKeyed(x.key, y.key));
    const dir = path.dirname(this.file);
    const tmp = path.join(dir, `${TEMP_PREFIX}state.${process.pid}`);
    const fd = fs.openSync(tmp, 'w', 0o644);
    try {
      const sink = new Writable({ write: (chunk: Buffer, _enc, cb) => (writeAll(fd, chunk), cb()) });
      const w = new NdjsonWriter(sink);
      w.write({ ...this.header, created: new Date().toISOString() });
      let count = 0;
      const put = (key: Keyed, e: EntryBody) => {
        count++;
        w.write({ ...key, ...e } as Entry);
      };
      let i = 0;
      if (this.oldFd !== undefined) {
        const old = await StreamReader.open(`/proc/self/fd/${this.oldFd}`, ENTRIES);
        await old.each((e) => {
          while (i < sorted.length && compareKeyed(sorted[i]!.key, e) < 0) {
            const d = sorted[i++]!;
            if (d.entry !== null) put(d.key, d.entry);
          }
          if (i < sorted.length && compareKeyed(sorted[i]!.key, e) === 0) {
            const d = sorted[i++]!;
            if (d.entry !== null) put(d.key, d.entry);
            return;
          }
          const { path: p, path_b64: raw, ...rest } = e;
          put(raw !== undefined ? { path: p, path_b64: raw } : { path: p }, rest);
        });
      }
      for (; i < sorted.length; i++) {
        const d = sorted[i]!;
        if (d.entry !== null) put(d.key, d.entry);
      }
      await w.end({ entries: count });
      fs.fsyncSync(fd);
    } catch (err) {
      fs.closeSync(fd);
      fs.rmSync(tmp, { force: true });
      throw err;
    }
    fs.closeSync(fd);
    fs.renameSync(tmp, this.file);
    const dfd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
    this.dirty = false;
  }

  close(): void {
    if (this.oldFd !== undefined) fs.closeSync(this.oldFd);
  }
}

function writeAll(fd: number, chunk: Buffer): void {
  for (let off = 0; off < chunk.length; ) off += fs.writeSync(fd, chunk, off);
}
