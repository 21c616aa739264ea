import * as fs from 'node:fs';
import { FatalIoError, describeSystemError } from '../../cli/errors';
import { heapGuard } from '../../cli/heap-guard';
import { keyOf, type Keyed } from '../../records/order';
import { entryLine } from '../../records/entry-line';
import { MORE } from '../../records/stream-reader';
import type { Entry, FilterRule, HashAlg } from '../../records/types';
import { asFsPath, type DirJob, type UnitOptions } from './dir-unit';
import { formatTime } from '../../records/time';
import { joinPath, type FsPath } from './list-dir';
import { hashInto } from './hash-entry';
import { Scheduler, type ReadyChunk, type Unit } from './scheduler';

/** Where entry lines go; `blocked` asks the walker to await `drain()`. */
export interface LineSink {
  /** Called once the root has been found readable, before the first put. */
  begin(): void;
  /** Whole entry lines, each ending with a newline. */
  put(text: string): void;
  /** The same as bytes (UTF-8), kept by the sink only until this call returns. */
  putBytes(lines: Buffer): void;
  readonly blocked: boolean;
  drain(): Promise<void>;
}

/** A previous scan's entries, in canonical order (for --reuse); see scan/reuse.ts. */
export interface ReuseSource {
  /** PREV's entry for key; or, given this scan's line and ctime, PREV's whole line when it is that line with a hash (see scan/reuse.ts). */
  find(key: Keyed, line?: string, ctime?: Float64Array): Entry | string | undefined | typeof MORE;
  more(): Promise<void>;
  /** Puts PREV's lines for the lines of `text` from `at` up to `to` that it holds as they are, moving `at` past them; false when it took none (see scan/reuse.ts). */
  takeRun(text: string, at: { pos: number; line: number }, to: number, ctimes: Float64Array, put: (lines: Buffer) => void): boolean;
  /** Takes PREV's line for a directory's line put out as it is, when PREV holds it as it is. */
  takeLine(line: string, key: Keyed): void;
  /** Takes PREV's records up to `key`, a line put out as it is (a changed directory or symlink). */
  passLine(key: Keyed): void;
}

export interface WalkOptions {
  readonly follow: boolean;
  readonly oneFileSystem: boolean;
  readonly rules: readonly FilterRule[];
  readonly hash: HashAlg | null;
  readonly reuse?: ReuseSource;
  /** Worker threads; 0 walks in this thread only. */
  readonly threads: number;
  readonly interrupted: () => boolean;
  /** An entry that carries `error` (reported on stderr; the walk goes on). */
  readonly warn: (path: string, why: string) => void;
  /** Entries and file bytes listed, as they are listed (for progress). */
  readonly listed?: (entries: number, bytes: number) => void;
}

export interface WalkResult {
  entries: number;
  /** Entries that carry `error`: each was also reported through warn. */
  problems: number;
}

interface Cursor {
  unit: Unit;
  chunk: ReadyChunk;
  /** Offset in chunk.text of what is not written yet, and the number of its line (under --reuse). */
  pos: number;
  line: number;
  kid: number;
  /**
   * Under --reuse, the chunk's ctimes (see UnitChunk.ctimes); NO_CTIMES
   * when they are not two a line, and then no run is taken in this chunk:
   * a run trusts them to tell a file's line (which must get its hash).
   */
  ctimes: Float64Array;
}

const NO_CTIMES = new Float64Array(0);

function ctimesOf(chunk: ReadyChunk): Float64Array {
  return chunk.ctimes !== undefined && chunk.ctimes.length === 2 * chunk.count ? Float64Array.from(chunk.ctimes) : NO_CTIMES;
}

function cursorOf(unit: Unit, chunk: ReadyChunk): Cursor {
  return { unit, chunk, pos: 0, line: 0, kid: 0, ctimes: ctimesOf(chunk) };
}

const YIELD_EVERY = 256;

/**
 * Walks a local tree depth first in canonical order and puts one entry line
 * per object. Directories are listed by units (see dir-unit.ts) that may run
 * in worker threads; this coordinator stitches their chunks back into one
 * ordered stream, settles --reuse hashes against PREV (a merge in output
 * order), and attaches to a directory's line the error met listing it. Memory
 * holds the current path's chunks plus a bounded prefetch.
 */
export async function walkLocal(root: string, opts: WalkOptions, sink: LineSink): Promise<WalkResult> {
  let rootStat: fs.BigIntStats;
  try {
    rootStat = fs.statSync(root, { bigint: true });
  } catch (err) {
    throw new FatalIoError(root, describeSystemError(err));
  }
  if (!rootStat.isDirectory()) throw new FatalIoError(root, 'ENOTDIR: not a directory');
  const unitOpts: UnitOptions = {
    follow: opts.follow,
    oneFileSystem: opts.oneFileSystem,
    rules: opts.rules,
    hash: opts.hash,
    hashHere: opts.reuse === undefined,
    rootDev: rootStat.dev.toString(),
  };
  const sched = new Scheduler(unitOpts, opts.threads);
  const result: WalkResult = { entries: 0, problems: 0 };
  // Every entry with an error is reported, and counted, here and nowhere else.
  const warn = (p: string, why: string) => {
    result.problems++;
    opts.warn(p, why);
  };
  const take = (chunk: ReadyChunk) => {
    result.entries += chunk.count;
    opts.listed?.(chunk.count, chunk.bytes);
    for (const [p, why] of chunk.warnings) warn(p, why);
  };
  try {
    const rootId = `${rootStat.dev}:${rootStat.ino}`;
    const rootUnit = sched.open({ path: '', abs: root, id: rootId, ancestors: opts.follow ? [rootId] : [], size: Number(rootStat.size) });
    const first = await sched.next(rootUnit);
    if (first.error !== undefined || first.gone) throw new FatalIoError(root, first.error ?? 'ENOENT: no such file or directory');
    sink.begin();
    take(first);
    const stack: Cursor[] = [cursorOf(rootUnit, first)];
    let steps = 0;
    const guard = heapGuard();
    const reuse = opts.reuse;
    const putBytes = (lines: Buffer) => sink.putBytes(lines);
    while (stack.length > 0) {
      if (sink.blocked) await sink.drain();
      guard();
      if (++steps >= YIELD_EVERY) {
        steps = 0;
        // Let signals and stdout errors in between units run inline.
        await new Promise<void>((r) => setImmediate(r));
        if (opts.interrupted()) break;
      }
      const top = stack[stack.length - 1]!;
      const c = top.chunk;
      const kid = c.kids[top.kid];
      const special = kid ? kid.start : c.text.length;
      if (special > top.pos) {
        if (reuse === undefined) {
          // Plain lines go out as one slice.
          sink.put(c.text.slice(top.pos, special));
          top.pos = special;
          continue;
        }
        // Most of a re-scan of an unchanged tree: runs of PREV's lines recognised and put out as they are.
        if (top.ctimes !== NO_CTIMES && reuse.takeRun(c.text, top, special, top.ctimes, putBytes)) continue;
        // A line the run did not take: a file's hash is settled on its own, anything else goes out as it is.
        const end = c.text.indexOf('\n', top.pos);
        const line = c.text.slice(top.pos, end);
        const k = top.line;
        top.pos = end + 1;
        top.line++;
        // Told by the line itself, not by the ctimes: a file line must never go out without its hash.
        const e = JSON.parse(line) as Entry;
        let out: string | undefined = line;
        if (e.type === 'file' && e.hash === undefined && e.error === undefined) {
          const ctime = 2 * k + 1 < top.ctimes.length && !Number.isNaN(top.ctimes[2 * k]) ? top.ctimes.subarray(2 * k, 2 * k + 2) : undefined;
          out = await settleHash(line, e, ctime, top.unit.job, reuse, opts, warn);
        } else reuse.passLine(keyOf(e));
        if (out === undefined) result.entries--;
        else sink.put(`${out}\n`);
        continue;
      }
      if (top.pos >= c.text.length) {
        if (c.last) stack.pop();
        else {
          top.chunk = await sched.next(top.unit);
          take(top.chunk);
          top.pos = top.line = top.kid = 0;
          top.ctimes = ctimesOf(top.chunk);
        }
        continue;
      }
      // A subdirectory's line: it waits for its listing, an error there belongs on that line.
      let line = c.text.slice(kid!.start, kid!.end);
      top.pos = kid!.end + 1;
      top.line++;
      const unit = c.kidUnits[top.kid++]!;
      const kidFirst = await sched.next(unit);
      if (kidFirst.gone) {
        result.entries--;
        continue;
      }
      let descend: Cursor | undefined;
      if (kidFirst.error !== undefined) {
        line = `${line.slice(0, -1)},"error":${JSON.stringify(kidFirst.error)}}`;
        warn(unit.job.path, kidFirst.error);
      } else {
        take(kidFirst);
        descend = cursorOf(unit, kidFirst);
      }
      // So that the run of its files finds their lines next in PREV.
      reuse?.takeLine(line, keyOf(unit.job));
      sink.put(`${line}\n`);
      if (descend) stack.push(descend);
    }
  } finally {
    await sched.close();
  }
  return result;
}

/**
 * A file whose hash the coordinator settles, from its line without hash
 * and its ctime: from PREV when its size, mtime, ctime and inode are
 * unchanged and PREV used the same algorithm, else by reading it now.
 * Returns the completed line, or undefined if the file is gone.
 */
async function settleHash(line: string, entry: Entry, times: Float64Array | undefined, dir: DirJob, reuse: ReuseSource, opts: WalkOptions, warn: (path: string, why: string) => void): Promise<string | undefined> {
  if (times !== undefined) {
    const key = keyOf(entry);
    let prev = reuse.find(key, line, times);
    while (prev === MORE) {
      await reuse.more();
      prev = reuse.find(key, line, times);
    }
    if (typeof prev === 'string') return prev;
    const ctime = formatTime(times[0]!, times[1]!);
    // PREV's hashes are of this scan's algorithm: Reuse.open checked its header, the reader every record.
    if (prev?.hash !== undefined && prev.size === entry.size && prev.mtime === entry.mtime && prev.ctime === ctime && String(prev.ino) === String(entry.ino)) {
      return `${line.slice(0, -1)},"hash":"${prev.hash}","ctime":"${ctime}"}`;
    }
  }
  if (hashInto(entry, fileAbs(dir, entry), String(entry.ino), opts.hash!, opts.follow) === 'gone') return undefined;
  if (entry.error !== undefined) warn(entry.path, entry.error);
  return entryLine(entry);
}

/** The absolute path of a file listed in `dir`, from its entry. */
function fileAbs(dir: DirJob, e: Entry): FsPath {
  if (e.path_b64 === undefined) return joinPath(asFsPath(dir.abs), e.path.slice(e.path.lastIndexOf('/') + 1), undefined);
  const raw = Buffer.from(e.path_b64, 'base64');
  return joinPath(asFsPath(dir.abs), '', raw.subarray(raw.lastIndexOf(0x2f) + 1));
}
