import * as fs from 'node:fs';
import { formatTime } from '../records/time';
import type { EntryBody } from '../records/types';
import type { FsPath } from '../tree/local/list-dir';
import type { Stat } from '../tree/local/stat';
import { typeOfMode } from '../tree/local/stat-entry';

/**
 * Why the object now at a path is not the one the plan expected, or
 * undefined when it is. Files must match in size, mtime and inode (an edit
 * that kept the size still moves the mtime); symlinks in their target;
 * directories only in being directories, since their times change as their
 * contents are synced. `st` undefined means nothing is there.
 */
export function mismatch(st: Stat | undefined, e: EntryBody, abs: FsPath): string | undefined {
  if (st === undefined) return 'changed since the scan: gone';
  const type = typeOfMode(st.mode);
  if (type !== e.type) return `changed since the scan: now a ${type ?? 'unknown object'}, was a ${e.type}`;
  switch (type) {
    case 'file':
      if (e.size !== undefined && st.size !== e.size) return `changed since the scan: size ${e.size} -> ${st.size}`;
      if (e.mtime !== undefined && formatTime(st.mtimeSec, st.mtimeNsec) !== e.mtime) return 'changed since the scan: mtime moved';
      if (e.ino !== undefined && String(st.ino) !== String(e.ino)) return 'changed since the scan: replaced by another file';
      return undefined;
    case 'symlink': {
      const now = fs.readlinkSync(abs, { encoding: 'buffer' });
      const was = e.target_b64 !== undefined ? Buffer.from(e.target_b64, 'base64') : Buffer.from(e.target ?? '');
      return now.equals(was) ? undefined : 'changed since the scan: link target differs';
    }
    case 'block':
    case 'char':
      return e.rdev !== undefined && st.rdev !== e.rdev ? 'changed since the scan: device number differs' : undefined;
    default:
      return undefined;
  }
}
