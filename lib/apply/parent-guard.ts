import type { FsPath } from '../tree/local/list-dir';
import { fsPathOf } from '../tree/local/fs-path';
import { statOf } from '../tree/local/stat';
import { typeOfMode } from '../tree/local/stat-entry';

/**
 * Makes sure an action's parent directories under the destination root are
 * real directories, not symlinks: a plan path must never lead out of its
 * root through a link that was (or was made) there. Plans come in path
 * order, so the directories checked are remembered as a stack of the
 * current path's ancestors: one lstat per directory, not per action.
 */
export class ParentGuard {
  private readonly known: string[] = [];

  constructor(private readonly root: string) {}

  /** Why the parents of `rel` cannot be used, or undefined when they can. */
  check(rel: string, relB64?: string): string | undefined {
    const parts = rel.split('/');
    parts.pop();
    const raw = relB64 !== undefined ? Buffer.from(relB64, 'base64') : undefined;
    let depth = 0;
    let prefix = '';
    for (const part of parts) {
      prefix = prefix === '' ? part : `${prefix}/${part}`;
      if (this.known[depth] === prefix) {
        depth++;
        continue;
      }
      this.known.length = depth;
      const abs: FsPath = raw === undefined ? fsPathOf(this.root, prefix) : Buffer.concat([Buffer.from(`${this.root}/`), rawPrefix(raw, depth + 1)]);
      let type;
      try {
        type = typeOfMode(statOf(abs, false).mode);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
        return `${code}: parent ${JSON.stringify(prefix)} is not there`;
      }
      if (type !== 'dir') return `parent ${JSON.stringify(prefix)} is a ${type}, not a directory: refusing to write through it`;
      this.known.push(prefix);
      depth++;
    }
    return undefined;
  }

  /** Takes `rel` as a directory without looking (--dry-run: a directory the plan would have made). */
  assume(rel: string): void {
    const depth = rel.split('/').length - 1;
    this.known.length = depth;
    this.known[depth] = rel;
  }

  /** Forget `rel` and below (it was removed or replaced). */
  forget(rel: string): void {
    const i = this.known.indexOf(rel);
    if (i >= 0) this.known.length = i;
  }
}

/** The first `n` components of a raw path. */
function rawPrefix(raw: Buffer, n: number): Buffer {
  let end = -1;
  for (let k = 0; k < n; k++) {
    end = raw.indexOf(0x2f, end + 1);
    if (end < 0) return raw;
  }
  return raw.subarray(0, end);
}
