import * as fs from 'node:fs';
import { isAscii, isUtf8 } from 'node:buffer';
import { lstatOrNone } from '../tree/local/stat';
import { typeOfMode } from '../tree/local/stat-entry';

const SLASH = 0x2f;
const DOT = 0x2e;
/** Deeper than this is refused: no real tree is, and deep trees are a way to exhaust a restorer. */
export const MAX_DEPTH = 1024;

/** A name as an archive gives it, made a relative path inside the destination, or why it cannot be. */
export function confineName(raw: Buffer): { rel: Buffer } | { refuse: string } {
  if (raw.length === 0) return { refuse: 'an empty name' };
  if (raw.includes(0)) return { refuse: 'a NUL in its name' };
  if (raw[0] === SLASH) return { refuse: 'an absolute path' };
  // C:x, C:\x, c:/x: a drive on Windows, a trap for whoever copies the tree there.
  if (raw.length >= 2 && raw[1] === 0x3a && ((raw[0]! | 0x20) >= 0x61 && (raw[0]! | 0x20) <= 0x7a)) return { refuse: 'a Windows drive-relative name' };
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i <= raw.length; i++) {
    if (i < raw.length && raw[i] !== SLASH) continue;
    const c = raw.subarray(start, i);
    start = i + 1;
    if (c.length === 0 || (c.length === 1 && c[0] === DOT)) continue; // a//b, ./a, a/
    if (c.length === 2 && c[0] === DOT && c[1] === DOT) return { refuse: 'a ".." component' };
    parts.push(c);
  }
  if (parts.length === 0) return { refuse: 'no name left ("." or "/" only)' };
  if (parts.length > MAX_DEPTH) return { refuse: `a depth over ${MAX_DEPTH}` };
  const rel = Buffer.alloc(parts.reduce((n, p) => n + p.length, 0) + parts.length - 1);
  let at = 0;
  for (const p of parts) {
    if (at > 0) rel[at++] = SLASH;
    at += p.copy(rel, at);
  }
  return { rel };
}

/** The parent of a relative path as a key of the sets below (latin1), without a Buffer for it. */
function parentKey(rel: Buffer): string {
  const i = rel.lastIndexOf(SLASH);
  return i < 0 ? '' : rel.toString('latin1', 0, i);
}

/**
 * Where a symlink at `rel` points, if it stays inside the destination:
 * relative targets resolved lexically from the link's directory. Absolute
 * targets and targets climbing above the destination are refused (the
 * symlink-then-file attack needs one of them).
 */
export function symlinkProblem(rel: Buffer, target: Buffer, isLink?: (path: Buffer) => boolean, isDir?: (path: Buffer) => boolean): string | undefined {
  if (target.length === 0) return 'an empty link target';
  if (target.includes(0)) return 'a NUL in its link target';
  if (target[0] === SLASH) return 'an absolute link target (it would point outside the destination)';
  // Resolved component by component from the link's directory: a ".." after a component that is
  // itself a symlink (made by this archive or there before) could lead anywhere, so it is refused.
  const stack = rel.toString('latin1').split('/').slice(0, -1);
  let throughLink = false;
  /** Components the target itself added (the link's own directories are real: checked before it is made). */
  let pushed = 0;
  for (const c of target.toString('latin1').split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (throughLink) return 'a link target that climbs out of a symbolic link (it could lead outside the destination)';
      // Climbing out of a name that is not a real directory yet: a later member could make it a symlink.
      if (pushed > 0 && isDir !== undefined && !isDir(Buffer.from(stack.join('/'), 'latin1'))) {
        return 'a link target that climbs out of something not (yet) a directory (it could lead outside the destination)';
      }
      if (stack.pop() === undefined) return 'a link target that leaves the destination';
      if (pushed > 0) pushed--;
      continue;
    }
    stack.push(c);
    pushed++;
    if (!throughLink && isLink?.(Buffer.from(stack.join('/'), 'latin1'))) throughLink = true;
  }
  return undefined;
}

/** A case-insensitive, normalizing view of a name, for collisions. */
function key(rel: Buffer, fold: boolean): string {
  // ASCII is its own NFC: most names are, and normalize() costs a microsecond a name.
  const s = isAscii(rel) ? rel.toString('latin1') : isUtf8(rel) ? rel.toString('utf8').normalize('NFC') : rel.toString('latin1');
  return fold ? s.toLowerCase() : s;
}

/**
 * What the restorer checks before writing at a path: that every directory
 * above it inside the destination is a real directory (never a symlink, not
 * even one that was there before: that is how a second archive restored into
 * the same tree would escape), and that no two names of the run collide once
 * normalized (NFC always: two names that look the same are a spoofing trick;
 * case too on a case-insensitive destination).
 */
export class Confinement {
  /** Directories (relative, latin1) known to be real directories: made or checked by this run. */
  private readonly dirs = new Set<string>(['']);
  private readonly names = new Map<string, string>();
  /** Directories this run made (mkdir succeeded): nothing is in them but what the run put there. */
  private readonly made = new Set<string>();
  /** The last name collision() was asked about, and whether it was new to the run. */
  private last: { raw: string; first: boolean } | undefined;

  /** The destination with its trailing slash, as bytes. */
  private readonly prefix: Buffer;

  constructor(
    dest: string,
    private readonly foldCase: boolean,
  ) {
    this.prefix = Buffer.from(dest.endsWith('/') ? dest : `${dest}/`);
  }

  abs(rel: Buffer): Buffer {
    const abs = Buffer.allocUnsafe(this.prefix.length + rel.length);
    this.prefix.copy(abs, 0);
    rel.copy(abs, this.prefix.length);
    return abs;
  }

  /** Every ancestor of `rel` inside the destination is a directory (made if missing, unless `dryRun`), or why not. */
  ancestors(rel: Buffer, dryRun: boolean, checkOnly = false): string | undefined {
    if (this.dirs.has(parentKey(rel))) return undefined;
    let at = 0;
    for (;;) {
      const slash = rel.indexOf(SLASH, at);
      if (slash < 0) return undefined;
      const dir = rel.subarray(0, slash);
      at = slash + 1;
      const k = dir.toString('latin1');
      if (this.dirs.has(k)) continue;
      if (this.dryLinks.has(k)) return `below a symbolic link (${dir.toString('utf8')}): refused, it could lead outside the destination`;
      let st: fs.Stats | undefined;
      try {
        st = fs.lstatSync(this.abs(dir));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return `${(err as Error).message}`;
      }
      if (st?.isSymbolicLink()) return `below a symbolic link (${dir.toString('utf8')}): refused, it could lead outside the destination`;
      if (st !== undefined && !st.isDirectory()) return `below ${dir.toString('utf8')}, which is not a directory`;
      if (checkOnly) {
        if (st === undefined) return `not there (${dir.toString('utf8')} is missing)`;
        continue;
      }
      if (st === undefined) {
        if (dryRun) {
          this.dirs.add(k);
          this.names.set(key(dir, this.foldCase), k);
          continue;
        }
        fs.mkdirSync(this.abs(dir), 0o755);
        this.made.add(k);
        // A directory this run made holds the name: a later name folding onto it collides.
        this.names.set(key(dir, this.foldCase), k);
      }
      this.dirs.add(k);
    }
  }

  /** `rel` and every directory above it: real directories (made if missing, unless `dryRun`), or why not. */
  directory(rel: Buffer, dryRun: boolean): string | undefined {
    return this.ancestors(Buffer.concat([rel, Buffer.from('/')]), dryRun);
  }

  /** The directory `rel` is in was made or checked by this run, and is a directory still as far as this run knows. */
  knownParent(rel: Buffer): boolean {
    return this.dirs.has(parentKey(rel));
  }

  /** A directory this run made or checked. */
  isDir(rel: Buffer): void {
    this.dirs.add(rel.toString('latin1'));
  }

  /** Something other than a directory now stands at `rel` (a symlink, a file): forget what was known below it. */
  notDir(rel: Buffer): void {
    const k = rel.toString('latin1');
    this.made.delete(k);
    if (!this.dirs.delete(k)) return;
    for (const d of this.dirs) if (d.startsWith(`${k}/`)) this.dirs.delete(d);
    for (const d of this.made) if (d.startsWith(`${k}/`)) this.made.delete(d);
  }

  /**
   * Nothing can be at `rel` but what another process put there: its
   * directory was made by this run, and collision() just met the name for
   * the first time. (The restorer then skips the lstat of the target, the
   * costliest call per file after the create; the rename still replaces
   * atomically.)
   */
  fresh(rel: Buffer): boolean {
    const raw = rel.toString('latin1');
    return this.last !== undefined && this.last.first && this.last.raw === raw && this.made.has(parentKey(rel));
  }

  /** Symlinks a dry run would have made: a real run would refuse what lies below them. */
  private readonly dryLinks = new Set<string>();

  dryLink(rel: Buffer): void {
    this.dryLinks.add(rel.toString('latin1'));
  }

  /** Is `rel` a real directory in the destination now? */
  isRealDir(rel: Buffer): boolean {
    return this.typeAt(rel) === 'dir';
  }

  /** Is `rel` a symlink in the destination (or one a dry run would have made)? */
  isLink(rel: Buffer): boolean {
    if (this.dryLinks.has(rel.toString('latin1'))) return true;
    return this.typeAt(rel) === 'symlink';
  }

  /** The type of what is at `rel`, or undefined when nothing is or it cannot be seen (link targets mostly name what is not there yet: no exception for them). */
  private typeAt(rel: Buffer): string | undefined {
    try {
      const st = lstatOrNone(this.abs(rel));
      return st === undefined ? undefined : typeOfMode(st.mode);
    } catch {
      return undefined;
    }
  }

  /** The absolute path of `name` in the directory of `rel` (a temporary name beside it), in one Buffer. */
  beside(rel: Buffer, name: string): Buffer {
    const dirEnd = rel.lastIndexOf(SLASH) + 1;
    const abs = Buffer.allocUnsafe(this.prefix.length + dirEnd + Buffer.byteLength(name));
    this.prefix.copy(abs, 0);
    rel.copy(abs, this.prefix.length, 0, dirEnd);
    abs.write(name, this.prefix.length + dirEnd);
    return abs;
  }

  /** A name of this run (or a directory above it) that collides with an earlier one once normalized, or undefined. */
  collision(rel: Buffer): string | undefined {
    // The directories above are checked against the names known, not stored: they are
    // stored when made or restored (deep names would otherwise fill memory with every prefix).
    const parentEnd = rel.lastIndexOf(SLASH);
    if (parentEnd > 0 && !this.sameParent(rel, parentEnd)) {
      for (let i = rel.indexOf(SLASH); i >= 0; i = rel.indexOf(SLASH, i + 1)) {
        const clash = this.collisionOf(rel.subarray(0, i), false);
        if (clash !== undefined) return clash;
      }
      this.checkedParent = rel.subarray(0, parentEnd);
    } else if (parentEnd < 0) {
      // A name at the top is stored under a key that may be a directory's above the next name (Docs, then docs/b).
      this.checkedParent = undefined;
    }
    return this.collisionOf(rel, true);
  }

  /**
   * The directory of the last name collision() was asked about, found clear
   * with every directory above it. The next name in it needs no new look
   * at them: all stored since is that name (one more slash than any of
   * them, so never their key) and directories made for it (each its own
   * key's first name); and an archive's names of one directory come
   * together. A name with no slash forgets it: its key may be the key of
   * a directory that was there before the run (never stored).
   */
  private checkedParent: Buffer | undefined;

  private sameParent(rel: Buffer, parentEnd: number): boolean {
    const p = this.checkedParent;
    return p !== undefined && p.length === parentEnd && rel.compare(p, 0, parentEnd, 0, parentEnd) === 0;
  }

  private collisionOf(rel: Buffer, store: boolean): string | undefined {
    const k = key(rel, this.foldCase);
    const raw = rel.toString('latin1');
    const had = this.names.get(k);
    if (store) this.last = { raw, first: had === undefined };
    if (had === undefined) {
      if (store) this.names.set(k, raw);
      return undefined;
    }
    if (had === raw) return undefined;
    return `collides with ${JSON.stringify(Buffer.from(had, 'latin1').toString('utf8'))} once normalized${this.foldCase ? ' and case-folded (the destination ignores case)' : ' (NFC)'}`;
  }
}
