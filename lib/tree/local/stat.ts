import * as fs from 'node:fs';
import type { FsPath } from './list-dir';

/** What the walk needs of a stat, as plain numbers; times as seconds + nanoseconds, exact. */
export interface Stat {
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
  size: number;
  /** 512-byte blocks allocated (fewer than the size needs: a sparse file). */
  blocks: number;
  /** Exact: a number up to 2^53, else a decimal string. */
  ino: number | string;
  dev: number | string;
  mtimeSec: number;
  mtimeNsec: number;
  ctimeSec: number;
  ctimeNsec: number;
}

type RawStat = (path: FsPath, useBigint: false, req: undefined, throwIfNoEntry: boolean) => Float64Array | undefined;
interface FsBinding {
  lstat: RawStat;
  stat: RawStat;
  fstat: (fd: number, useBigint: false, req: undefined, shouldNotThrow: false) => Float64Array | undefined;
}

const NS = 1_000_000_000n;

/** A number when it is exact in JS, else its decimal string (64-bit inode numbers). */
export function exactInteger(n: bigint): number | string {
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString();
}

function fromBigInt(s: fs.BigIntStats): Stat {
  return {
    mode: Number(s.mode),
    nlink: Number(s.nlink),
    uid: Number(s.uid),
    gid: Number(s.gid),
    rdev: Number(s.rdev),
    size: Number(s.size),
    blocks: Number(s.blocks),
    ino: exactInteger(s.ino),
    dev: exactInteger(s.dev),
    mtimeSec: floorSec(s.mtimeNs),
    mtimeNsec: Number(s.mtimeNs - BigInt(floorSec(s.mtimeNs)) * NS),
    ctimeSec: floorSec(s.ctimeNs),
    ctimeNsec: Number(s.ctimeNs - BigInt(floorSec(s.ctimeNs)) * NS),
  };
}

/** Whole seconds rounded down (BigInt division truncates toward zero: wrong before 1970). */
function floorSec(ns: bigint): number {
  const q = ns / NS;
  return Number(ns < 0n && q * NS !== ns ? q - 1n : q);
}

/**
 * Node's stat binding fills one shared Float64Array: seconds and nanoseconds
 * separately (exact), no BigInt objects and no four Date objects per call as
 * `lstatSync(p, {bigint: true})` makes. That is 1.5 us against 2.4 us here, on
 * the call the walk makes once per object. It is an internal interface, so it
 * is used only when it gives, for a real directory, exactly what the public
 * API gives; otherwise (another node, CAIRN_PORTABLE_STAT set) the public API
 * does the work alone. Values beyond 2^53 (inode, size) also take that path.
 */
function loadBinding(): FsBinding | undefined {
  if (process.env.CAIRN_PORTABLE_STAT) return undefined;
  // With --pending-deprecation node would print a warning for process.binding: stay silent instead.
  if (`${process.env.NODE_OPTIONS ?? ''} ${process.execArgv.join(' ')}`.includes('--pending-deprecation')) return undefined;
  try {
    const b = (process as unknown as { binding(name: string): FsBinding }).binding('fs');
    const probe = __dirname;
    const a = b.lstat(probe, false, undefined, true);
    const want = fromBigInt(fs.lstatSync(probe, { bigint: true }));
    if (!(a instanceof Float64Array) || a.length < 18) return undefined;
    const got = fromArray(a);
    for (const k of Object.keys(want) as Array<keyof Stat>) if (got![k] !== want[k]) return undefined;
    return b;
  } catch {
    return undefined;
  }
}

// [dev, mode, nlink, uid, gid, rdev, blksize, ino, size, blocks, atime s, ns, mtime s, ns, ctime s, ns, ...]
function fromArray(a: Float64Array): Stat | undefined {
  const ino = a[7]!;
  const size = a[8]!;
  const dev = a[0]!;
  if (ino > Number.MAX_SAFE_INTEGER || size > Number.MAX_SAFE_INTEGER || dev > Number.MAX_SAFE_INTEGER) return undefined;
  return {
    mode: a[1]!,
    nlink: a[2]!,
    uid: a[3]!,
    gid: a[4]!,
    rdev: a[5]!,
    size,
    blocks: a[9]!,
    ino,
    dev,
    mtimeSec: a[12]!,
    mtimeNsec: a[13]!,
    ctimeSec: a[14]!,
    ctimeNsec: a[15]!,
  };
}

const binding = loadBinding();

/** lstat(2), or stat(2) when `follow`; throws Node's usual system errors. */
function statOnce(path: FsPath, follow: boolean): Stat {
  if (binding) {
    const s = fromArray((follow ? binding.stat(path, false, undefined, true) : binding.lstat(path, false, undefined, true))!);
    if (s) return s;
  }
  return fromBigInt(follow ? fs.statSync(path, { bigint: true }) : fs.lstatSync(path, { bigint: true }));
}

/** lstat(2); with `follow`, stat(2), but a dangling or looping symlink is reported as the link itself. */
export function statOf(path: FsPath, follow: boolean): Stat {
  if (!follow) return statOnce(path, false);
  try {
    return statOnce(path, true);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // Dangling (also through a file: ENOTDIR) or looping: the link itself is the entry.
    if (code === 'ENOENT' || code === 'ELOOP' || code === 'ENOTDIR') return statOnce(path, false);
    throw err;
  }
}

/**
 * lstat(2), or undefined when nothing is there: without the cost of an
 * exception, for the checks that usually find nothing (a copy's target).
 */
export function lstatOrNone(path: FsPath): Stat | undefined {
  if (binding) {
    const a = binding.lstat(path, false, undefined, false);
    if (a === undefined) return undefined;
    const s = fromArray(a);
    if (s) return s;
  }
  const st = fs.lstatSync(path, { bigint: true, throwIfNoEntry: false });
  return st === undefined ? undefined : fromBigInt(st);
}

/** fstat(2) of an open descriptor, through the binding when it is in use. */
export function fstatOf(fd: number): Stat {
  if (binding) {
    const a = binding.fstat(fd, false, undefined, false);
    const s = a && fromArray(a);
    if (s) return s;
  }
  return fromBigInt(fs.fstatSync(fd, { bigint: true }));
}

/** True when the fast binding passed its self-check (for tests and --debug). */
export const usingBinding = binding !== undefined;
