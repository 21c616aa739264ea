import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { compareKeyed, type Keyed } from '../records/order';
import { writeAll } from '../records/spool';
import { TEMP_PREFIX, type EntriesHeader, type Entry, type EntryBody } from '../records/types';

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

  /**
   * Writes the state atomically: data synced first, then a temporary file,
   * fsynced, renamed over the old one. Synchronous, so that it can run from
   * an exit handler too (a closed pipe or a second Ctrl-C ends the process
   * at once; what was done by then must still be recorded).
   */
  writeSync(): void {
    for (const root of this.roots) {
      // syncfs for the tree's filesystem; where that fails, everything.
      if (spawnSync('sync', ['-f', root], { stdio: 'ignore' }).status !== 0) spawnSync('sync', { stdio: 'ignore' });
    }
    const sorted = [...this.deltas.values()].sort((x, y) => compareKeyed(x.key, y.key));
    const dir = path.dirname(this.file);
    // One name per state file: a leftover of a killed write is simply written over.
    const tmp = path.join(dir, `${TEMP_PREFIX}${path.basename(this.file)}`);
    const fd = fs.openSync(tmp, 'w', 0o644);
    try {
      const out = new LineBuffer(fd);
      out.line(JSON.stringify({ ...this.header, created: new Date().toISOString() }));
      let count = 0;
      const put = (key: Keyed, e: EntryBody) => {
        count++;
        out.line(JSON.stringify({ ...key, ...e }));
      };
      let i = 0;
      if (this.oldFd !== undefined) {
        for (const text of linesOf(this.oldFd, this.file)) {
          const e = JSON.parse(text) as Entry & { cairn?: string };
          if (e.cairn !== undefined) continue;
          while (i < sorted.length && compareKeyed(sorted[i]!.key, e) < 0) {
            const d = sorted[i++]!;
            if (d.entry !== null) put(d.key, d.entry);
          }
          if (i < sorted.length && compareKeyed(sorted[i]!.key, e) === 0) {
            const d = sorted[i++]!;
            if (d.entry !== null) put(d.key, d.entry);
            continue;
          }
          const { path: p, path_b64: raw, ...rest } = e;
          put(raw !== undefined ? { path: p, path_b64: raw } : { path: p }, rest);
        }
      }
      for (; i < sorted.length; i++) {
        const d = sorted[i]!;
        if (d.entry !== null) put(d.key, d.entry);
      }
      out.line(JSON.stringify({ cairn: 'end', counts: { entries: count } }));
      out.flush();
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

/** Lines joined into large writes. */
class LineBuffer {
  private buf = '';
  constructor(private readonly fd: number) {}
  line(text: string): void {
    this.buf += text + '\n';
    if (this.buf.length >= 1 << 20) this.flush();
  }
  flush(): void {
    writeAll(this.fd, Buffer.from(this.buf));
    this.buf = '';
  }
}

/** The lines of the old state, read from its descriptor (from the start, whatever replaced its name since). */
function* linesOf(fd: number, file: string): Generator<string> {
  const chunk = Buffer.alloc(1 << 20);
  let pos = 0;
  let rest = '';
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for (;;) {
    const n = fs.readSync(fd, chunk, 0, chunk.length, pos);
    if (n === 0) break;
    pos += n;
    const text = rest + decoder.decode(chunk.subarray(0, n), { stream: true });
    const lines = text.split('\n');
    rest = lines.pop()!;
    for (const l of lines) if (l !== '') yield l;
  }
  if (rest !== '') throw new Error(`${file}: the old state ends without a newline`);
}
