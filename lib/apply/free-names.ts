import type { Action } from '../records/types';
import { fsPathOf } from '../tree/local/fs-path';
import { lstatOrNone } from '../tree/local/stat';

/** `dir/stem-N.ext` for `dir/stem.ext`. */
export function numbered(path: string, n: number): string {
  const slash = path.lastIndexOf('/');
  const base = path.slice(slash + 1);
  const dot = base.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [base.slice(0, dot), base.slice(dot)] : [base, ''];
  return `${path.slice(0, slash + 1)}${stem}-${n}${ext}`;
}

/**
 * Conflict copies get a free name: a move marked `free_name` whose name is
 * taken on either side (an earlier conflict of the same file, within the
 * same second) takes the first free `NAME-2.EXT`, `NAME-3.EXT`..., and every
 * later action of the plan on that name follows it. Names that are not
 * UTF-8 keep the plan's name (taken, it is reported stale).
 */
export class FreeNames {
  private readonly map = new Map<string, string>();

  constructor(private readonly roots: readonly string[]) {}

  resolve(a: Action): Action {
    if (a.path_b64 !== undefined) return a;
    const mapped = this.map.get(a.path);
    if (mapped !== undefined) return { ...a, path: mapped };
    if (a.op !== 'move' || a.free_name !== true || !this.taken(a.path)) return a;
    for (let n = 2; ; n++) {
      const name = numbered(a.path, n);
      if (!this.taken(name)) {
        this.map.set(a.path, name);
        return { ...a, path: name };
      }
    }
  }

  private taken(path: string): boolean {
    return this.roots.some((root) => lstatOrNone(fsPathOf(root, path)) !== undefined);
  }
}
