import * as fs from 'node:fs';
import { FatalIoError, describeSystemError } from '../../cli/errors';
import type { Filter } from '../../filter/rules';
import { isValidUtf8, readableName } from '../../records/raw-names';
import { entryLine } from '../../records/entry-line';
import type { Entry, FilterRule, HashAlg } from '../../records/types';
import { hashInto } from './hash-entry';
import { isGone, joinPath, joinRaw, listDir, type FsPath, type Listing } from './list-dir';
import { statOf, type Stat } from './stat';
import { addLinkFields, entryFromStat, typeOfMode } from './stat-entry';
import { ChildStats } from './child-stats';

/** How units are produced; plain data, so that worker threads get the same. */
export interface UnitOptions {
  readonly follow: boolean;
  readonly oneFileSystem: boolean;
  readonly rules: readonly FilterRule[];
  readonly hash: HashAlg | null;
  /** False under --reuse: a file's line is left without hash (and ctime), which the coordinator settles against PREV. */
  readonly hashHere: boolean;
  /** st_dev of the root, as a decimal string. */
  readonly rootDev: string;
}

/** A directory whose children are to be listed. Its path is its place in canonical order. */
export interface DirJob {
  readonly path: string;
  readonly path_b64?: string;
  /** Absolute path (bytes when some component is not UTF-8). */
  readonly abs: string | Uint8Array;
  /** dev:ino of this directory as its parent saw it: listing checks it is still that one. */
  readonly id: string;
  /** dev:ino of this directory and its ancestors (only under --follow, for loop detection). */
  readonly ancestors: readonly string[];
  /** The directory's st_size: big ones are listed a batch at a time. */
  readonly size: number;
}

/** Where one line sits in a chunk's text: [start, end), without its newline. */
export interface LineSpan {
  start: number;
  end: number;
}

/**
 * Part of one directory's listing: entry lines in canonical order as one
 * newline-terminated text (one string crosses threads far cheaper than an
 * array of them), with the subdirectories to descend into located by their
 * spans in it.
 */
export interface UnitChunk {
  text: string;
  count: number;
  kids: Array<LineSpan & { job: DirJob }>;
  /**
   * Under --reuse, two numbers per line: the ctime (seconds, nanoseconds)
   * of a file whose hash the coordinator settles, NaN for any other line.
   */
  ctimes?: number[];
  /** Sum of file sizes in the chunk, for progress. */
  bytes: number;
  /** [path, error] of each line carrying `error`: for stderr, and their count for the exit status. */
  warnings: Array<[string, string]>;
  /** The directory itself could not be listed (first and only chunk). */
  error?: string;
  /** The directory disappeared before it could be listed. */
  gone?: boolean;
  last: boolean;
}

/** Children per chunk: bounds memory for huge directories and keeps messages small. */
export const CHUNK_LINES = 2048;

const ACCESS = fs.constants.R_OK | fs.constants.X_OK;

function emptyChunk(): UnitChunk {
  return { text: '', count: 0, kids: [], bytes: 0, warnings: [], last: false };
}

/** Appends an entry's line; returns its span, for the lines the coordinator must find again. */
function append(chunk: UnitChunk, entry: Entry): LineSpan {
  if (entry.error !== undefined) chunk.warnings.push([entry.path, entry.error]);
  const line = entryLine(entry);
  const start = chunk.text.length;
  chunk.text += `${line}\n`;
  chunk.count++;
  return { start, end: start + line.length };
}

/** A path as it crosses to another thread: a Buffer's pool would be copied whole, so copy just its bytes. */
function transferable(abs: FsPath): string | Uint8Array {
  return typeof abs === 'string' ? abs : new Uint8Array(abs);
}

/** Still the directory the parent saw (same dev:ino, still a directory)? Else why not. Throws stat's errors. */
function changedDir(dirAbs: FsPath, job: DirJob, follow: boolean): string | undefined {
  const st = statOf(dirAbs, follow);
  if (typeOfMode(st.mode) !== 'dir' || `${st.dev}:${st.ino}` !== job.id) return 'changed during scan: no longer the directory that was seen';
  return undefined;
}

export function asFsPath(p: string | Uint8Array): FsPath {
  return typeof p === 'string' ? p : Buffer.from(p.buffer, p.byteOffset, p.byteLength);
}

/**
 * Lists one directory: lstat (or stat, --follow) every child, apply the
 * filters, build its entry line, hash files, and name the subdirectories to
 * enter. The same code runs inline and in worker threads.
 */
export function* dirUnit(job: DirJob, opts: UnitOptions, filter: Filter, prefetched?: Listing | Error): Generator<UnitChunk> {
  const dirAbs = asFsPath(job.abs);
  const settled = opts.hash !== null && !opts.hashHere;
  // The root is named by the user and may be a link to the tree; below it, links are followed only with -L.
  const follow = opts.follow || job.path === '';
  let listing: Listing | undefined;
  let why: string | undefined;
  try {
    // A directory swapped for a link or a file after its parent looked at it
    // must not be listed through: that would describe a tree that never was.
    // A prefetched listing was checked already, on the descriptor it was read through.
    if (prefetched !== undefined && !(prefetched instanceof Error) && prefetched.native?.sameDir) listing = prefetched;
    else {
      why = changedDir(dirAbs, job, follow);
      if (why === undefined) {
        fs.accessSync(dirAbs, ACCESS);
        if (prefetched instanceof Error) throw prefetched;
        listing = prefetched ?? listDir(dirAbs, job.size);
      }
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      yield { ...emptyChunk(), gone: true, last: true };
      return;
    }
    why = describeSystemError(err);
  }
  if (listing === undefined) {
    yield { ...emptyChunk(), error: why, last: true };
    return;
  }
  const stats = new ChildStats(dirAbs, listing, opts.follow);
  let first = true;
  const { names, raws } = listing;
  const dirRaw = job.path_b64 !== undefined ? Buffer.from(job.path_b64, 'base64') : undefined;
  let chunk = emptyChunk();
  for (let i = 0; i < names.length; i++) {
    if (chunk.count >= CHUNK_LINES) {
      yield verified(chunk, first, dirAbs, job, follow);
      first = false;
      chunk = emptyChunk();
    }
    const name = names[i]!;
    const raw = raws?.[i];
    const rel = job.path === '' ? name : `${job.path}/${name}`;
    const relRaw = joinRaw(job.path, dirRaw, name, raw);

    let st: Stat;
    try {
      st = stats.stat(i, name, raw);
    } catch (err) {
      if (isGone(err)) continue;
      // Listed but not examinable (ENAMETOOLONG, EIO...): it must still appear, with
      // its error, or a later step would take it for deleted.
      const why = describeSystemError(err);
      const type = stats.typeOf(i);
      if (filter.excludes(rel, type === 'dir')) continue;
      const pathB64 = relRaw?.toString('base64');
      append(chunk, (pathB64 === undefined ? { path: rel, type, error: why } : { path: rel, path_b64: pathB64, type, error: why }) as Entry);
      if (settled) (chunk.ctimes ??= []).push(NaN, NaN);
      continue;
    }
    const type = typeOfMode(st.mode);
    if (type === undefined) continue; // whiteouts and the like: nothing a tree can hold
    if (filter.excludes(rel, type === 'dir')) continue;

    const pathB64 = relRaw?.toString('base64');
    const entry = entryFromStat(rel, pathB64, type, st);
    // Only some objects need their absolute path: most files do not.
    const abs = type === 'file' && (opts.hash === null || !opts.hashHere) ? '' : joinPath(dirAbs, name, raw);
    let kid: DirJob | undefined;
    let ctimeSec = NaN;
    let ctimeNsec = NaN;
    if (type === 'symlink') {
      try {
        const target = fs.readlinkSync(abs, { encoding: 'buffer' });
        if (isValidUtf8(target)) entry.target = target.toString('utf8');
        else {
          entry.target = readableName(target);
          entry.target_b64 = target.toString('base64');
        }
      } catch (err) {
        if (isGone(err)) continue;
        entry.target = '';
        entry.error = describeSystemError(err);
      }
    }
    addLinkFields(entry, st);
    if (type === 'file') {
      chunk.bytes += entry.size!;
      if (opts.hash !== null) {
        if (settled) {
          ctimeSec = st.ctimeSec;
          ctimeNsec = st.ctimeNsec;
        } else if (hashInto(entry, abs, String(st.ino), opts.hash, opts.follow) === 'gone') {
          continue;
        }
      }
    } else if (type === 'dir') {
      const id = `${st.dev}:${st.ino}`;
      if (opts.oneFileSystem && String(st.dev) !== opts.rootDev) {
        // Listed, not entered (like find -xdev), and marked: its contents are unknown, not absent.
        entry.unscanned = 'mount point (--one-file-system)';
      } else if (opts.follow && job.ancestors.includes(id)) {
        entry.error = 'ELOOP: directory cycle through a symlink';
      } else {
        kid = {
          path: rel,
          id,
          ...(pathB64 !== undefined ? { path_b64: pathB64 } : {}),
          abs: transferable(abs),
          ancestors: opts.follow ? [...job.ancestors, id] : [],
          size: st.size,
        };
      }
    }
    const span = append(chunk, entry);
    if (settled) (chunk.ctimes ??= []).push(ctimeSec, ctimeNsec);
    if (kid) chunk.kids.push({ start: span.start, end: span.end, job: kid });
  }
  chunk.last = true;
  yield verified(chunk, first, dirAbs, job, follow);
}

/**
 * A chunk is handed out only if its directory is still the one listed: its
 * children were examined through its path, which a swap would have
 * redirected. The first chunk then becomes an error on the directory's own
 * line (its subtree is unknown); a later one cannot, the directory's line
 * being out already, so the scan stops (no end record: nothing downstream
 * takes the stream as complete).
 */
function verified(chunk: UnitChunk, first: boolean, dirAbs: FsPath, job: DirJob, follow: boolean): UnitChunk {
  // Also for a listing read through a checked descriptor: symlink targets and hashes are still read by path.
  let why: string | undefined;
  try {
    why = changedDir(dirAbs, job, follow);
  } catch (err) {
    why = `changed during scan: ${describeSystemError(err)}`;
  }
  if (why === undefined) return chunk;
  if (!first) throw new FatalIoError(job.path, why);
  return { ...emptyChunk(), error: why, last: true };
}
