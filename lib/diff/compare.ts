import { parseTimeNs } from '../records/time';
import type { Attr, CompareSettings, EntriesHeader, EntryBody } from '../records/types';

/**
 * cairn-apply sets times through Node, which sets them to the microsecond
 * (libuv truncates), so no comparison is finer than that: a file copied by
 * cairn must compare equal to its source.
 */
export const FINEST_WINDOW_NS = 1000;

const HOUR_NS = 3_600_000_000_000n;

export interface CompareFlags {
  modifyWindowNs?: number;
  ignoreHourShift: boolean;
  sizeOnly: boolean;
  checksum: 'off' | 'ambiguous' | 'all';
  ignore: Attr[];
}

/** How two trees are compared: at the coarser precision of the two, only what both keep. */
export function compareSettings(a: EntriesHeader, b: EntriesHeader, f: CompareFlags): CompareSettings {
  return {
    mtime_window_ns: f.modifyWindowNs ?? Math.max(a.caps.mtime_precision_ns, b.caps.mtime_precision_ns, FINEST_WINDOW_NS),
    perms: a.caps.perms && b.caps.perms,
    owners: a.caps.owners && b.caps.owners,
    symlinks: a.caps.symlinks && b.caps.symlinks,
    hardlinks: a.caps.hardlinks && b.caps.hardlinks,
    ignore_hour_shift: f.ignoreHourShift,
    size_only: f.sizeOnly,
    checksum: f.checksum,
    ignore: f.ignore,
  };
}

/**
 * Two mtimes are the same when they fall in the same slot of the window (a
 * filesystem that truncates) or lie closer than the window (one that rounds).
 */
export function sameTime(x: string, y: string, windowNs: number, hourShift: boolean): boolean {
  if (x === y) return true;
  // The common case: the same second, told apart (or not) by the fraction; no BigInt.
  if (windowNs <= 1e9 && 1e9 % windowNs === 0 && x.length === 30 && y.length === 30 && x.charCodeAt(19) === 0x2e && x.startsWith(y.slice(0, 20))) {
    const fx = Number(x.slice(20, 29));
    const fy = Number(y.slice(20, 29));
    return Math.abs(fx - fy) < windowNs || Math.floor(fx / windowNs) === Math.floor(fy / windowNs);
  }
  const a = parseTimeNs(x);
  const b = parseTimeNs(y);
  if (a === undefined || b === undefined) return false;
  const w = BigInt(windowNs);
  const d = a > b ? a - b : b - a;
  if (d < w || a / w === b / w) return true;
  return hourShift && (d - HOUR_NS < w && HOUR_NS - d < w);
}

function sameTarget(a: EntryBody, b: EntryBody): boolean {
  return a.target_b64 !== undefined || b.target_b64 !== undefined ? (a.target_b64 ?? '') === (b.target_b64 ?? '') && a.target === b.target : a.target === b.target;
}

/**
 * What differs between the two sides' objects at one path, in ATTRS order;
 * empty when they are the same as far as both sides can tell. Pure: hashes
 * are compared only when both entries carry one of the same algorithm.
 */
export function compareEntries(a: EntryBody, b: EntryBody, s: CompareSettings, linkA = a.link, linkB = b.link): Attr[] {
  const out: Attr[] = [];
  const ignored = s.ignore;
  if (a.type !== b.type) {
    out.push('type');
    if ((a.error !== undefined || b.error !== undefined) && !ignored.includes('error')) out.push('error');
    return out;
  }
  const t = a.type;
  // An object that could not be examined has no attributes to compare.
  const examined = a.mtime !== undefined && b.mtime !== undefined;
  if (examined) {
    if (t === 'file' && a.size !== b.size && !ignored.includes('size')) out.push('size');
    const hourShift = s.ignore_hour_shift && (t !== 'file' || a.size === b.size);
    // An object whose own time is coarser than its tree's (object storage without mtime metadata) compares at its precision.
    const pa = a.mtime_precision_ns;
    const pb = b.mtime_precision_ns;
    const window = pa !== undefined || pb !== undefined ? Math.max(s.mtime_window_ns, pa ?? 0, pb ?? 0) : s.mtime_window_ns;
    const timeless = pa === 0 || pb === 0;
    if (!s.size_only && !timeless && !ignored.includes('mtime') && !sameTime(a.mtime, b.mtime, window, hourShift)) out.push('mtime');
    // An attribute one entry does not have (an object other tools wrote) is unknown, not different.
    if (s.perms && t !== 'symlink' && !ignored.includes('mode') && a.mode !== b.mode && a.mode !== undefined && b.mode !== undefined) out.push('mode');
    if (s.owners && !ignored.includes('owner') && (a.uid !== b.uid || a.gid !== b.gid) && a.uid !== undefined && b.uid !== undefined) out.push('owner');
    if (t === 'symlink' && !ignored.includes('target') && !sameTarget(a, b)) out.push('target');
    if ((t === 'block' || t === 'char') && !ignored.includes('rdev') && a.rdev !== b.rdev) out.push('rdev');
    if (t === 'file' && !ignored.includes('hash') && a.hash !== undefined && b.hash !== undefined && sameAlg(a.hash, b.hash) && a.hash !== b.hash) out.push('hash');
    if (t === 'file' && s.hardlinks && !ignored.includes('link') && linkA !== linkB) out.push('link');
  }
  if ((a.error !== undefined || b.error !== undefined) && !ignored.includes('error')) out.push('error');
  return out;
}

function sameAlg(x: string, y: string): boolean {
  const i = x.indexOf(':');
  return i === y.indexOf(':') && x.startsWith(y.slice(0, i + 1));
}

/** True when the attributes say the contents may differ (a copy is needed, not just meta). */
export function contentDiffers(attrs: readonly Attr[], a: EntryBody, b: EntryBody): boolean {
  if (attrs.includes('type') || attrs.includes('size') || attrs.includes('hash')) return true;
  if (attrs.includes('mtime')) return !(a.hash !== undefined && a.hash === b.hash);
  return false;
}

/** Worth hashing under --checksum: both regular files of equal size whose contents are not known equal. */
export function needsHash(a: EntryBody, b: EntryBody, attrs: readonly Attr[], s: CompareSettings): boolean {
  if (s.checksum === 'off' || a.type !== 'file' || b.type !== 'file' || a.size !== b.size) return false;
  if (a.error !== undefined || b.error !== undefined) return false;
  if (a.hash !== undefined && b.hash !== undefined && sameAlg(a.hash, b.hash)) return false;
  return s.checksum === 'all' || attrs.includes('mtime');
}
