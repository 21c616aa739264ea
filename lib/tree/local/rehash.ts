import * as fs from 'node:fs';
import { describeSystemError } from '../../cli/errors';
import { hashFd } from '../../hash/file-hash';
import { formatTime } from '../../records/time';
import type { EntryBody, HashAlg } from '../../records/types';
import type { FsPath } from './list-dir';

const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = fs.constants;

/**
 * Hashes a file that a scan listed, for cairn-diff --checksum: only if it is
 * still the object the entry describes (a regular file of that size and
 * mtime), so a hash never describes other bytes than the entry's.
 */
export function rehash(abs: FsPath, e: EntryBody, alg: HashAlg): { hash: string } | { error: string } {
  let fd: number;
  try {
    fd = fs.openSync(abs, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (err) {
    return { error: describeSystemError(err) };
  }
  try {
    const before = fs.fstatSync(fd);
    const mtime = formatTime(Math.floor(Number(before.mtimeMs) / 1000), 0).slice(0, 19);
    if (!before.isFile() || before.size !== e.size || mtime !== e.mtime.slice(0, 19)) {
      return { error: 'changed since the scan: not the file the entry describes' };
    }
    const hash = hashFd(fd, alg);
    const after = fs.fstatSync(fd);
    if (after.size !== before.size || after.mtimeMs !== before.mtimeMs) return { error: 'changed while being hashed' };
    return { hash };
  } catch (err) {
    return { error: describeSystemError(err) };
  } finally {
    fs.closeSync(fd);
  }
}
