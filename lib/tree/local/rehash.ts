import * as fs from 'node:fs';
import { describeSystemError } from '../../cli/errors';
import { hashFd } from '../../hash/file-hash';
import { formatTimeNs } from '../../records/time';
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
    const before = fs.fstatSync(fd, { bigint: true });
    const same =
      before.isFile() &&
      Number(before.size) === e.size &&
      formatTimeNs(before.mtimeNs) === e.mtime &&
      (e.ino === undefined || before.ino.toString() === String(e.ino));
    if (!same) return { error: 'changed since the scan: not the file the entry describes' };
    const hash = hashFd(fd, alg);
    const after = fs.fstatSync(fd, { bigint: true });
    if (after.size !== before.size || after.mtimeNs !== before.mtimeNs || after.ctimeNs !== before.ctimeNs) return { error: 'changed while being hashed' };
    return { hash };
  } catch (err) {
    return { error: describeSystemError(err) };
  } finally {
    fs.closeSync(fd);
  }
}
