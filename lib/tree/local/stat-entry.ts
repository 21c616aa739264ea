import * as fs from 'node:fs';
import { formatTimeNs } from '../../records/time';
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

export function typeOfMode(mode: number): EntryType | undefined {
  return TYPE_BY_FMT[mode & S_IFMT];
}

/** A number when it is exact in JS, else its decimal string (64-bit inode numbers). */
export function exactInteger(n: bigint): number | string {
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString();
}

/**
 * The entry of one object from its (bigint, for nanoseconds) stat. Fields are
 * assigned in the order of cairn-records(5), which is the order they print in.
 */
export function entryFromStat(path: string, pathB64: string | undefined, type: EntryType, st: fs.BigIntStats): Entry {
  const mode = Number(st.mode);
  const e: Entry = pathB64 === undefined ? ({ path } as Entry) : ({ path, path_b64: pathB64 } as Entry);
  e.type = type;
  if (type === 'file') e.size = Number(st.size);
  e.mtime = formatTimeNs(st.mtimeNs);
  e.mode = (mode & 0o7777).toString(8).padStart(4, '0');
  e.uid = Number(st.uid);
  e.gid = Number(st.gid);
  return e;
}

/** Adds the fields that only some types carry, after the common ones. */
export function addLinkFields(e: Entry, st: fs.BigIntStats): void {
  if (e.type === 'block' || e.type === 'char') e.rdev = Number(st.rdev);
  if (e.type === 'file') e.ino = exactInteger(st.ino);
  if (e.type !== 'dir' && st.nlink > 1n) {
    if (e.type !== 'file') e.ino = exactInteger(st.ino);
    e.nlink = Number(st.nlink);
    e.dev = Number(st.dev);
  }
}
