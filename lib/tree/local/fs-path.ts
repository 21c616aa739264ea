import type { FsPath } from './list-dir';

/**
 * The filesystem path of a record under a root: the raw bytes when the
 * record carries them (`path_b64`), so names that are not UTF-8 are reached
 * exactly; "." is the root itself.
 */
export function fsPathOf(root: string, path: string, pathB64?: string): FsPath {
  if (path === '.') return root;
  const sep = root.endsWith('/') ? '' : '/';
  if (pathB64 === undefined) return `${root}${sep}${path}`;
  return Buffer.concat([Buffer.from(`${root}${sep}`), Buffer.from(pathB64, 'base64')]);
}

/** The parent directory's path of an FsPath. */
export function parentOf(p: FsPath): FsPath {
  if (typeof p === 'string') return p.slice(0, Math.max(p.lastIndexOf('/'), 1));
  return p.subarray(0, Math.max(p.lastIndexOf(0x2f), 1));
}

/** The last component of an FsPath. */
export function baseOf(p: FsPath): FsPath {
  if (typeof p === 'string') return p.slice(p.lastIndexOf('/') + 1);
  return p.subarray(p.lastIndexOf(0x2f) + 1);
}

/** `dir/name` for an FsPath dir and a string name. */
export function childOf(dir: FsPath, name: string): FsPath {
  // The root ("/", as parentOf gives it) takes no second slash.
  const slash = (typeof dir === 'string' ? dir.endsWith('/') : dir[dir.length - 1] === 0x2f) ? '' : '/';
  if (typeof dir === 'string') return `${dir}${slash}${name}`;
  return Buffer.concat([dir, Buffer.from(`${slash}${name}`)]);
}

export function showPath(p: FsPath): string {
  return typeof p === 'string' ? p : p.toString('utf8');
}
