import type { Group } from '../catalog/merge';
import { algOfHash } from '../hash/digest';
import type { Entry, VolumeRecord } from '../records/types';

/** A byte range of a file. */
export interface Range {
  offset: number;
  size: number;
}

/**
 * What the catalog has of a source object: `archived` (nothing to do), or
 * what to store, `missing` being the byte ranges of a file not on any medium
 * yet (the whole file when it is new or changed; the rest of a split file
 * whose earlier parts are archived).
 */
export type Archived = { kind: 'archived' } | { kind: 'store'; why: 'new' | 'changed' | 'rest'; missing: Range[] };

/**
 * The same version of an object: what the source holds now is what the
 * record describes. Content decides when both carry a hash of one algorithm
 * (a new time over the same bytes is not stored again); otherwise size and
 * the exact mtime do, as in sync2cd.
 */
export function sameVersion(src: Entry, rec: VolumeRecord): boolean {
  if (rec.tombstone || rec.type !== src.type) return false;
  switch (src.type) {
    case 'file': {
      if (rec.size !== src.size) return false;
      const sh = src.hash;
      const rh = rec.hash;
      if (sh !== undefined && rh !== undefined && algOfHash(sh) === algOfHash(rh)) return sh === rh;
      return rec.mtime === src.mtime;
    }
    case 'symlink':
      return rec.target === src.target && rec.target_b64 === src.target_b64;
    case 'block':
    case 'char':
      return rec.rdev === src.rdev;
    default:
      return true;
  }
}

/**
 * Decides one source object against every record the catalog holds for its
 * path (newest first): the newest record wins; a split file is archived when
 * parts of this version on any counting volume cover all of it.
 */
export function decide(src: Entry, group: Group | undefined): Archived {
  const size = src.type === 'file' ? src.size ?? 0 : 0;
  const whole: Range[] = [{ offset: 0, size }];
  const newest = group?.held[0];
  if (newest === undefined || newest.rec.tombstone) return { kind: 'store', why: 'new', missing: whole };
  if (!sameVersion(src, newest.rec)) return { kind: 'store', why: 'changed', missing: whole };
  if (newest.rec.part === undefined) return { kind: 'archived' };
  const have: Range[] = [];
  for (const h of group!.held) {
    if (h.rec.tombstone || !sameVersion(src, h.rec)) continue;
    if (h.rec.part === undefined) return { kind: 'archived' };
    have.push({ offset: h.rec.part.offset, size: h.rec.part.size });
  }
  const missing = gaps(have, size);
  return missing.length === 0 ? { kind: 'archived' } : { kind: 'store', why: 'rest', missing };
}

/** The ranges of [0, size) that `have` does not cover, in order. */
export function gaps(have: Range[], size: number): Range[] {
  const sorted = [...have].sort((a, b) => a.offset - b.offset);
  const out: Range[] = [];
  let at = 0;
  for (const r of sorted) {
    if (r.offset > at) out.push({ offset: at, size: r.offset - at });
    at = Math.max(at, r.offset + r.size);
  }
  if (at < size) out.push({ offset: at, size: size - at });
  return out;
}
