import * as fs from 'node:fs';
import type { EntryType } from '../../records/types';
import { joinPath, type FsPath, type Listing } from './list-dir';
import { F, dirStat, statRecord, systemError } from './native';
import { statOf, type Stat } from './stat';

/** Linux's limits on a path (with its NUL) and on a name. */
const PATH_MAX = 4096;
const NAME_MAX = 255;

/** Children examined per statAt call: a listing's chunk (dir-unit.ts CHUNK_LINES), so memory stays bounded. */
const BATCH = 2048;

// d_type values (dirent.h); DT_UNKNOWN and anything else count as a directory (see typeOf).
const BY_DTYPE: Record<number, EntryType> = { 8: 'file', 4: 'dir', 10: 'symlink', 1: 'fifo', 12: 'socket', 6: 'block', 2: 'char' };

function direntType(d: fs.Dirent): EntryType {
  if (d.isFile()) return 'file';
  if (d.isSymbolicLink()) return 'symlink';
  if (d.isFIFO()) return 'fifo';
  if (d.isSocket()) return 'socket';
  if (d.isBlockDevice()) return 'block';
  if (d.isCharacterDevice()) return 'char';
  return 'dir';
}

/**
 * The stat of each child of one listed directory, asked for in listing
 * order: from the compiled lister a batch at a time when it made the
 * listing, else one statOf per child. Either way a child that cannot be
 * examined throws the error Node's lstat would have thrown.
 */
export class ChildStats {
  private batch: Float64Array | number | undefined;
  /** The children [from, to) that batch holds. */
  private from = 0;
  private to = 0;
  private types: Map<string, EntryType> | undefined;

  /** Bytes of the directory's path, when a child's full path could exceed PATH_MAX (else -1). */
  private readonly longDir: number;

  constructor(
    private readonly dirAbs: FsPath,
    private readonly listing: Listing,
    private readonly follow: boolean,
  ) {
    // A prefetched listing comes with every child's stat.
    const stats = listing.native?.stats;
    if (stats !== undefined) [this.batch, this.to] = [stats, listing.names.length];
    const bytes = typeof dirAbs === 'string' ? Buffer.byteLength(dirAbs) : dirAbs.length;
    this.longDir = bytes + 1 + NAME_MAX >= PATH_MAX ? bytes : -1;
  }

  /** The one object stat() fills from the compiled lister's numbers: valid until the next call (one object less per child). */
  private readonly cur: Stat = { mode: 0, nlink: 0, uid: 0, gid: 0, rdev: 0, size: 0, blocks: 0, ino: 0, dev: 0, mtimeSec: 0, mtimeNsec: 0, ctimeSec: 0, ctimeNsec: 0 };

  /**
   * lstat (stat with follow) of child i, named name (raw: its bytes, when
   * the listing has them). What it returns is valid until the next call.
   */
  stat(i: number, name: string, raw: Buffer | undefined): Stat {
    const native = this.listing.native;
    if (native === undefined || dirStat === undefined) return this.byPath(name, raw);
    // fstatat reaches a name whose whole path is too long for the calls that follow (readlink, hashing) and for
    // Node's lstat: give it ENAMETOOLONG as they would, so both listers write the same entry.
    if (this.longDir >= 0 && this.longDir + 1 + (raw?.length ?? Buffer.byteLength(name)) >= PATH_MAX) return this.byPath(name, raw);
    if (i < this.from || i >= this.to) {
      [this.from, this.to] = [i, Math.min(native.ends.length, i + BATCH)];
      this.batch = dirStat.statAt(this.dirAbs, native.buf, native.ends, this.from, this.to, this.follow);
    }
    const errno = typeof this.batch === 'number' ? this.batch : this.batch![(i - this.from) * dirStat.STRIDE + F.ERR]!;
    if (errno !== 0) throw systemError(errno, this.follow ? 'stat' : 'lstat', joinPath(this.dirAbs, name, raw));
    // A number a double does not hold exactly: Node's call gives the exact decimal.
    return statRecord(this.batch as Float64Array, (i - this.from) * dirStat.STRIDE, this.cur) ?? this.byPath(name, raw);
  }

  /** Node's own lstat (stat with follow) of a child, by its whole path: a fresh object. */
  private byPath(name: string, raw: Buffer | undefined): Stat {
    return statOf(joinPath(this.dirAbs, name, raw), this.follow);
  }

  /**
   * The type the directory listing gives child i (d_type), for a child that
   * could not be examined. Unknown counts as `dir`, so that nothing under it
   * is touched downstream.
   */
  typeOf(i: number): EntryType {
    const native = this.listing.native;
    if (native !== undefined) return BY_DTYPE[native.types[i]!] ?? 'dir';
    this.types ??= listingTypes(this.dirAbs);
    const raw = this.listing.raws?.[i] ?? Buffer.from(this.listing.names[i]!);
    return this.types.get(raw.toString('latin1')) ?? 'dir';
  }
}

/** Node's listing types, read once per directory and only when some child could not be examined; keyed by the raw name in latin1. */
function listingTypes(dirAbs: FsPath): Map<string, EntryType> {
  const types = new Map<string, EntryType>();
  try {
    for (const d of fs.readdirSync(dirAbs, { withFileTypes: true, encoding: 'buffer' })) {
      types.set((d.name as unknown as Buffer).toString('latin1'), direntType(d as unknown as fs.Dirent));
    }
  } catch {
    // every child then counts as a directory
  }
  return types;
}
