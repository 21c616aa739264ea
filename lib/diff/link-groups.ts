import type { Entry } from '../records/types';

/**
 * Hard-link groups of one side, met in canonical order: each file with more
 * than one link learns the first path of its group (its leader). A group is
 * forgotten once all its links were seen, so memory holds only groups still
 * open, not the tree.
 */
export class LinkGroups {
  private readonly open = new Map<string, { leader: string; left: number }>();

  /** The leader of e's group when it is not e itself. */
  leaderOf(e: Entry): string | undefined {
    if (e.type !== 'file' || e.nlink === undefined || e.nlink < 2 || e.ino === undefined) return undefined;
    const key = `${e.dev ?? ''}:${e.ino}`;
    const g = this.open.get(key);
    if (g === undefined) {
      this.open.set(key, { leader: e.path, left: e.nlink - 1 });
      return undefined;
    }
    if (--g.left <= 0) this.open.delete(key);
    return g.leader;
  }
}
