/**
 * Canonical order (cairn-records(5)): depth first, siblings by the bytes of
 * their names. Equivalently: compare paths byte by byte with `/` below every
 * other byte, so `a` < `a/b` < `a/c` < `a.txt`.
 *
 * Paths are JS strings (UTF-16). UTF-8 byte order equals code point order,
 * which equals UTF-16 code unit order except that surrogates (astral code
 * points) must sort above U+E000..U+FFFF; the comparison fixes that case.
 */

const SLASH = 0x2f;

function unitOrder(c: number): number {
  // Move surrogates above the rest of the BMP; shift the rest down to make room.
  if (c >= 0xd800) return c <= 0xdfff ? c + 0x2000 : c - 0x800;
  return c;
}

/** Compare two relative paths in canonical order. */
export function comparePaths(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      if (x === SLASH) return -1;
      if (y === SLASH) return 1;
      return x < 0xd800 && y < 0xd800 ? x - y : unitOrder(x) - unitOrder(y);
    }
  }
  return a.length - b.length;
}

/** Compare two names (no `/`) in UTF-8 byte order: the path order serves, names having no `/`. */
export const compareNames = comparePaths;

/** Compare two raw paths (bytes) in canonical order. */
export function comparePathBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x !== y) {
      if (x === SLASH) return -1;
      if (y === SLASH) return 1;
      return x - y;
    }
  }
  return a.length - b.length;
}

/** `path` lies under the directory `dir` (not `dir` itself): the test every ancestor stack makes. */
export function isInside(path: string, dir: string): boolean {
  return path.length > dir.length && path.charCodeAt(dir.length) === SLASH && path.startsWith(dir);
}

/** The ordering key of a record: its raw bytes when it has them, else its path. */
export interface Keyed {
  path: string;
  path_b64?: string;
}

/** The key of a record, alone: its path, and its raw bytes when it has them. */
export function keyOf(r: Keyed): Keyed {
  return r.path_b64 === undefined ? { path: r.path } : { path: r.path, path_b64: r.path_b64 };
}

/** Compare two path-keyed records in canonical order, honouring path_b64. */
export function compareKeyed(a: Keyed, b: Keyed): number {
  if (a.path_b64 === undefined && b.path_b64 === undefined) return comparePaths(a.path, b.path);
  return comparePathBytes(rawPath(a), rawPath(b));
}

function rawPath(r: Keyed): Buffer {
  return r.path_b64 !== undefined ? Buffer.from(r.path_b64, 'base64') : Buffer.from(r.path, 'utf8');
}
