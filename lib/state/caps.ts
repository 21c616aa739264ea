import type { Caps } from '../records/types';

/** What a state records: as much as either side keeps. */
export function unionCaps(a: Caps, b: Caps): Caps {
  return {
    mtime_precision_ns: Math.min(a.mtime_precision_ns, b.mtime_precision_ns),
    perms: a.perms || b.perms,
    owners: a.owners || b.owners,
    symlinks: a.symlinks || b.symlinks,
    hardlinks: false,
    case_sensitive: a.case_sensitive && b.case_sensitive,
    unicode_normalizes: a.unicode_normalizes || b.unicode_normalizes,
    fs: 'cairn-state',
  };
}
