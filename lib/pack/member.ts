import { timeNs } from '../records/time';
import type { EntryBody } from '../records/types';
import type { TarMember, TarType } from './tar-header';

/** Raw bytes of a path or link text: the `_b64` field when the name is not UTF-8. */
export function rawBytes(text: string, b64: string | undefined): Buffer {
  return b64 !== undefined ? Buffer.from(b64, 'base64') : Buffer.from(text, 'utf8');
}

export { splitRdev } from '../tree/local/write';
import { splitRdev } from '../tree/local/write';

const TYPES: Partial<Record<EntryBody['type'], TarType>> = {
  file: 'file',
  dir: 'dir',
  symlink: 'symlink',
  fifo: 'fifo',
  char: 'char',
  block: 'block',
};

/** Sockets cannot be archived: no tar or ISO format carries them. */
export function archivable(type: EntryBody['type']): boolean {
  return TYPES[type] !== undefined;
}

/**
 * The tar member of an entry. `size` is the content stored (a part of a split
 * file stores less than the file); `link` makes it a hard link to an earlier
 * member.
 */
export function memberOf(name: Buffer, e: EntryBody, size: number, link?: Buffer): TarMember {
  const m: TarMember = {
    path: name,
    type: link !== undefined ? 'hardlink' : TYPES[e.type]!,
    size: link !== undefined || e.type !== 'file' ? 0 : size,
    mtimeNs: timeNs(e.mtime),
    mode: parseInt(e.mode ?? '0644', 8),
    uid: e.uid ?? 0,
    gid: e.gid ?? 0,
  };
  if (e.user !== undefined) m.uname = e.user;
  if (e.group !== undefined) m.gname = e.group;
  if (link !== undefined) m.linkname = link;
  else if (e.type === 'symlink') m.linkname = rawBytes(e.target ?? '', e.target_b64);
  if ((e.type === 'char' || e.type === 'block') && e.rdev !== undefined) m.rdev = splitRdev(e.rdev);
  return m;
}

/** The member name of a part of a split file: sorts by offset, so `cat NAME.cairn-part-*` rejoins. */
export function partName(name: Buffer, offset: number): Buffer {
  return Buffer.concat([name, Buffer.from(`.cairn-part-${String(offset).padStart(15, '0')}`)]);
}
