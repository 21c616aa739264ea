import { formatTime } from '../../records/time';
import type { Stat } from './stat';
import type { Entry, EntryType } from '../../records/types';

const S_IFMT = 0o170000;
const TYPE_BY_FMT: Record<number, EntryType> = {
  0o100000: 'file',
  0o040000: 'dir',
  0o120000: 'symlink',
  0o010000: 'fifo',
  0o140000: 'socket',
  0o060000: 'block',
  0o020000: 'char',
};

/** Every permission field as the records write it ("0644"), made once. */
const MODES = Array.from({ length: 0o10000 }, (_, m) => m.toString(8).padStart(4, '0'));

export function typeOfMode(mode: number): EntryType | undefined {
  return TYPE_BY_FMT[mode & S_IFMT];
}

/**
 * The entry of one object from its stat. Fields are set in the order of
 * cairn-records(5); entryLine prints them in that order anyway.
 */
export function entryFromStat(path: string, pathB64: string | undefined, type: EntryType, st: Stat): Entry {
  const e: Entry = pathB64 === undefined ? ({ path } as Entry) : ({ path, path_b64: pathB64 } as Entry);
  e.type = type;
  if (type === 'file') e.size = st.size;
  e.mtime = formatTime(st.mtimeSec, st.mtimeNsec);
  e.mode = MODES[st.mode & 0o7777]!;
  e.uid = st.uid;
  e.gid = st.gid;
  return e;
}

/** Adds the fields that only some types carry. */
export function addLinkFields(e: Entry, st: Stat): void {
  if (e.type === 'block' || e.type === 'char') e.rdev = st.rdev;
  if (e.type === 'file') e.ino = st.ino;
  if (e.type !== 'dir' && st.nlink > 1) {
    e.ino = st.ino;
    e.nlink = st.nlink;
    e.dev = Number(st.dev);
  }
}
