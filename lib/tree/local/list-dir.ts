import * as fs from 'node:fs';
import { compareNames } from '../../records/order';
import { isValidUtf8, readableName } from '../../records/raw-names';
import { dirStat, systemError, type DirStat } from './native';

/** A path the fs calls take: a string, or raw bytes when some component is not UTF-8. */
export type FsPath = string | Buffer;

export interface Listing {
  /** Readable names in canonical order. */
  names: string[];
  /** Raw names, parallel to `names`, only when the directory holds a name that is not valid UTF-8. */
  raws: Buffer[] | undefined;
  /** The compiled lister's own listing (see native.ts), when it made this one. */
  native?: {
    buf: Buffer;
    ends: Uint32Array;
    types: Uint8Array;
    /** Every child's stat, taken relative to the descriptor the names were read through (prefetchDir). */
    stats?: Float64Array;
    /** That descriptor was found readable and searchable, and to be the directory the parent saw. */
    sameDir?: boolean;
  };
}

/**
 * Directory size (st_size, bytes) from which names are read a batch at a time:
 * readdirSync gets the whole listing from the C library first, and that
 * memory (40 MB for a million names) stays in the process after it is freed.
 */
const STREAM_FROM_BYTES = 1 << 20;

function readNames(abs: FsPath, sizeHint: number, encoding: 'utf8' | 'buffer'): Array<string | Buffer> {
  if (sizeHint < STREAM_FROM_BYTES) return fs.readdirSync(abs, { encoding: encoding as 'buffer' });
  const dir = fs.opendirSync(abs as string, { encoding: encoding as 'utf8', bufferSize: 1024 });
  const names: Array<string | Buffer> = [];
  try {
    for (let d = dir.readSync(); d !== null; d = dir.readSync()) names.push(d.name);
  } finally {
    dir.closeSync();
  }
  return names;
}

/**
 * Lists a directory in canonical order. Names are read as UTF-8 first (fast);
 * only a directory whose listing shows U+FFFD, the mark of undecodable bytes,
 * is read again as raw bytes so that such names are kept exact. `sizeHint` is
 * the directory's st_size.
 */
export function listDir(abs: FsPath, sizeHint = 0): Listing {
  if (dirStat) return listNative(dirStat, abs);
  const names = readNames(abs, sizeHint, 'utf8') as string[];
  if (!names.some((n) => n.includes('\ufffd'))) return { names: names.sort(compareNames), raws: undefined };
  const raws = (readNames(abs, sizeHint, 'buffer') as Buffer[]).sort(Buffer.compare);
  return { names: raws.map((r) => (isValidUtf8(r) ? r.toString('utf8') : readableName(r))), raws };
}

const SLASH = Buffer.from('/');

export function joinPath(abs: FsPath, name: string, raw: Buffer | undefined): FsPath {
  if (raw === undefined && typeof abs === 'string') return abs === '/' ? `/${name}` : `${abs}/${name}`;
  const base = typeof abs === 'string' ? Buffer.from(abs) : abs;
  return Buffer.concat([base, SLASH, raw ?? Buffer.from(name)]);
}

/** The raw bytes of `parent/name` when either is not UTF-8, else undefined. */
export function joinRaw(parentRel: string, parentRaw: Buffer | undefined, name: string, raw: Buffer | undefined): Buffer | undefined {
  const nameIsRaw = raw !== undefined && !isValidUtf8(raw);
  if (parentRaw === undefined && !nameIsRaw) return undefined;
  const nameBytes = raw ?? Buffer.from(name);
  if (parentRel === '') return nameBytes;
  return Buffer.concat([parentRaw ?? Buffer.from(parentRel), SLASH, nameBytes]);
}

/** The object is gone (removed between listing and looking at it): leave it out. */
export function isGone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** listDir through the compiled lister: names come sorted in byte order, which is canonical order. */
function listNative(lister: DirStat, abs: FsPath): Listing {
  const r = lister.listNames(abs);
  if (typeof r === 'number') throw systemError(r, 'scandir', abs);
  return nativeListing(r[0], r[1], r[2], r[3]);
}

/**
 * The listing a helper thread made ahead of need (dirStat.take): a Listing,
 * or the error listing met. `id` is the dev:ino the parent saw; a listing of
 * another directory (swapped in between) is refused like dir-unit.ts
 * refuses one it finds changed.
 */
export function listingAhead(r: ReturnType<DirStat['take']>, abs: FsPath, id: string): Listing | Error {
  if (typeof r === 'number') return systemError(r, 'scandir', abs);
  const [buf, ends, types, allUtf8, stats, dev, ino] = r;
  const comparable = dev <= Number.MAX_SAFE_INTEGER && ino <= Number.MAX_SAFE_INTEGER;
  if (comparable && `${dev}:${ino}` !== id) return new Error('changed during scan: no longer the directory that was seen');
  const listing = nativeListing(buf, ends, types, allUtf8);
  listing.native!.stats = stats;
  listing.native!.sameDir = comparable;
  return listing;
}

function nativeListing(buf: Buffer, ends: Uint32Array, types: Uint8Array, allUtf8: boolean): Listing {
  // All UTF-8: one decode, split at the NULs (a name holds none).
  if (allUtf8) return { names: ends.length === 0 ? [] : buf.toString('utf8', 0, buf.length - 1).split('\0'), raws: undefined, native: { buf, ends, types } };
  const names = new Array<string>(ends.length);
  const raws = new Array<Buffer>(ends.length);
  let start = 0;
  for (let i = 0; i < ends.length; i++) {
    const end = ends[i]! - 1; // its NUL
    {
      const raw = buf.subarray(start, end);
      raws[i] = raw;
      names[i] = isValidUtf8(raw) ? raw.toString('utf8') : readableName(raw);
    }
    start = end + 1;
  }
  return { names, raws, native: { buf, ends, types } };
}
