import * as fs from 'node:fs';
import { FatalIoError, describeSystemError } from '../../cli/errors';
import type { Filter } from '../../filter/rules';
import { hashFd } from '../../hash/file-hash';
import { compareNames } from '../../records/order';
import { isValidUtf8, readableName } from '../../records/raw-names';
import { formatTimeNs } from '../../records/time';
import type { Entry, HashAlg } from '../../records/types';
import { addLinkFields, entryFromStat, typeOfMode } from './stat-entry';

/** Where entries go; `blocked` asks the walker to await `drain()`. */
export interface EntrySink {
  /** Called once the root has been found readable, before the first put. */
  begin(): void;
  put(entry: Entry): void;
  readonly blocked: boolean;
  drain(): Promise<void>;
}

/** A previous scan's entry for the same path, if any (for --reuse). */
export type ReuseLookup = (path: string, pathB64: string | undefined) => Promise<Entry | undefined>;

export interface WalkOptions {
  readonly follow: boolean;
  readonly oneFileSystem: boolean;
  readonly filter: Filter;
  readonly hash: HashAlg | null;
  readonly reuse?: ReuseLookup;
  readonly interrupted: () => boolean;
  /** A child that could not be examined at all (reported, walk goes on). */
  readonly warn: (path: string, why: string) => void;
}

export interface WalkResult {
  entries: number;
  /** Entries that carry `error`, plus children that could not be examined. */
  problems: number;
}

/** One directory being listed: its sorted children and how far we got. */
interface Frame {
  rel: string;
  /** Raw bytes of rel, only when some component is not valid UTF-8. */
  relRaw: Buffer | undefined;
  abs: string | Buffer;
  names: string[];
  /** Raw names, only when this directory holds a name that is not valid UTF-8. */
  raws: Buffer[] | undefined;
  next: number;
  /** dev:ino of this directory, for loop detection under --follow. */
  id: string;
}

const SLASH = Buffer.from('/');
const YIELD_EVERY = 1024;
const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = fs.constants;

/**
 * Lists a directory in canonical order. Names are read as UTF-8 first (fast);
 * only a directory whose listing shows U+FFFD, the mark of undecodable bytes,
 * is read again as raw bytes so that such names are kept exact.
 */
function listDir(abs: string | Buffer): { names: string[]; raws: Buffer[] | undefined } {
  const names = fs.readdirSync(abs);
  if (!names.some((n) => n.includes('\ufffd'))) return { names: names.sort(compareNames), raws: undefined };
  const raws = fs.readdirSync(abs, { encoding: 'buffer' }).sort(Buffer.compare);
  return { names: raws.map((r) => (isValidUtf8(r) ? r.toString('utf8') : readableName(r))), raws };
}

function join(abs: string | Buffer, name: string, raw: Buffer | undefined): string | Buffer {
  if (raw === undefined && typeof abs === 'string') return abs === '/' ? `/${name}` : `${abs}/${name}`;
  const base = typeof abs === 'string' ? Buffer.from(abs) : abs;
  return Buffer.concat([base, SLASH, raw ?? Buffer.from(name)]);
}

function isGone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * Walks a local tree depth first in canonical order and puts one entry per
 * object. Memory holds only the sibling lists of the current path. Filters
 * apply during the walk: an excluded directory is not entered.
 */
export async function walkLocal(root: string, opts: WalkOptions, sink: EntrySink): Promise<WalkResult> {
  const result: WalkResult = { entries: 0, problems: 0 };
  let rootStat: fs.BigIntStats;
  let first: ReturnType<typeof listDir>;
  try {
    rootStat = fs.statSync(root, { bigint: true });
    if (!rootStat.isDirectory()) throw Object.assign(new Error('ENOTDIR: not a directory'), { code: 'ENOTDIR' });
    fs.accessSync(root, fs.constants.R_OK | fs.constants.X_OK);
    first = listDir(root);
  } catch (err) {
    throw new FatalIoError(root, describeSystemError(err));
  }
  sink.begin();
  const rootDev = rootStat.dev;
  const stack: Frame[] = [{ rel: '', relRaw: undefined, abs: root, ...first, next: 0, id: `${rootStat.dev}:${rootStat.ino}` }];
  let sinceYield = 0;

  while (stack.length > 0) {
    const f = stack[stack.length - 1]!;
    if (f.next >= f.names.length) {
      stack.pop();
      continue;
    }
    const i = f.next++;
    const name = f.names[i]!;
    const raw = f.raws?.[i];
    const rawName = raw !== undefined && !isValidUtf8(raw) ? raw : undefined;
    const rel = f.rel === '' ? name : `${f.rel}/${name}`;
    const relRaw = f.relRaw !== undefined || rawName !== undefined
      ? Buffer.concat(f.rel === '' ? [raw!] : [f.relRaw ?? Buffer.from(f.rel), SLASH, raw ?? Buffer.from(name)])
      : undefined;
    const abs = join(f.abs, name, raw);

    let st: fs.BigIntStats;
    try {
      st = opts.follow ? statFollowing(abs) : fs.lstatSync(abs, { bigint: true });
    } catch (err) {
      if (!isGone(err)) {
        opts.warn(rel, describeSystemError(err));
        result.problems++;
      }
      continue;
    }
    const type = typeOfMode(Number(st.mode));
    if (type === undefined) continue; // whiteouts and the like: nothing a tree can hold
    const isDir = type === 'dir';
    if (opts.filter.excludes(rel, isDir)) continue;

    const entry = entryFromStat(rel, relRaw?.toString('base64'), type, st);
    let child: Frame | undefined;
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
    if (type === 'file' && opts.hash !== null) {
      const prev = opts.reuse ? await opts.reuse(rel, entry.path_b64) : undefined;
      const ctime = formatTimeNs(st.ctimeNs);
      if (prev && prev.hash?.startsWith(`${opts.hash}:`) && prev.size === entry.size && prev.mtime === entry.mtime &&
        prev.ctime === ctime && String(prev.ino) === String(entry.ino)) {
        entry.hash = prev.hash;
        entry.ctime = ctime;
      } else {
        const outcome = hashInto(entry, abs, st, opts);
        if (outcome === 'gone') continue;
      }
    } else if (isDir) {
      const id = `${st.dev}:${st.ino}`;
      if (opts.oneFileSystem && st.dev !== rootDev) {
        // A mount point: listed, not entered (like find -xdev).
      } else if (opts.follow && stack.some((a) => a.id === id)) {
        entry.error = 'ELOOP: directory cycle through a symlink';
      } else {
        try {
          fs.accessSync(abs, fs.constants.R_OK | fs.constants.X_OK);
          child = { rel, relRaw, abs, ...listDir(abs), next: 0, id };
        } catch (err) {
          if (isGone(err)) continue;
          entry.error = describeSystemError(err);
        }
      }
    }

    if (entry.error !== undefined) result.problems++;
    result.entries++;
    sink.put(entry);
    if (child) stack.push(child);
    if (sink.blocked) await sink.drain();
    if (++sinceYield >= YIELD_EVERY) {
      sinceYield = 0;
      // Let signals and stdout errors in; the walk itself is synchronous I/O.
      await new Promise<void>((r) => setImmediate(r));
      if (opts.interrupted()) break;
    }
  }
  return result;
}

/** stat(), but a dangling or looping symlink is reported as the link itself. */
function statFollowing(abs: string | Buffer): fs.BigIntStats {
  try {
    return fs.statSync(abs, { bigint: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ELOOP') return fs.lstatSync(abs, { bigint: true });
    throw err;
  }
}

/**
 * Hashes a file into its entry. The file is opened without following links
 * and without blocking (a fifo swapped in after lstat must not hang the scan),
 * and checked before and after reading: size, mtime and ctime in the entry
 * are those of the bytes hashed; a file that keeps changing gets `error`.
 */
function hashInto(entry: Entry, abs: string | Buffer, st: fs.BigIntStats, opts: WalkOptions): 'ok' | 'gone' {
  let fd: number;
  try {
    fd = fs.openSync(abs, O_RDONLY | O_NONBLOCK | (opts.follow ? 0 : O_NOFOLLOW));
  } catch (err) {
    if (isGone(err)) return 'gone';
    entry.error = describeSystemError(err);
    return 'ok';
  }
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      const before = fs.fstatSync(fd, { bigint: true });
      if (!before.isFile() || before.ino !== st.ino) {
        entry.error = 'changed during scan: no longer the same regular file';
        return 'ok';
      }
      const hash = hashFd(fd, opts.hash!);
      const after = fs.fstatSync(fd, { bigint: true });
      if (after.ctimeNs === before.ctimeNs && after.size === before.size && after.mtimeNs === before.mtimeNs) {
        entry.size = Number(after.size);
        entry.mtime = formatTimeNs(after.mtimeNs);
        entry.hash = hash;
        entry.ctime = formatTimeNs(after.ctimeNs);
        return 'ok';
      }
    }
    entry.error = 'changed while being hashed';
    return 'ok';
  } catch (err) {
    entry.error = describeSystemError(err);
    return 'ok';
  } finally {
    fs.closeSync(fd);
  }
}
