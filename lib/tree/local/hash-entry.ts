import * as fs from 'node:fs';
import { describeSystemError } from '../../cli/errors';
import { hashFd } from '../../hash/file-hash';
import { formatTimeNs } from '../../records/time';
import type { Entry, HashAlg } from '../../records/types';
import { isGone, type FsPath } from './list-dir';

const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = fs.constants;

/**
 * Hashes a file into its entry. The file is opened without following links
 * and without blocking (a fifo swapped in after lstat must not hang the scan),
 * and checked before and after reading: size, mtime and ctime in the entry
 * are those of the bytes hashed; a file that keeps changing gets `error`.
 * Returns 'gone' when the file disappeared (the entry is to be left out).
 */
export function hashInto(entry: Entry, abs: FsPath, ino: string, alg: HashAlg, follow: boolean): 'ok' | 'gone' {
  let fd: number;
  try {
    fd = fs.openSync(abs, O_RDONLY | O_NONBLOCK | (follow ? 0 : O_NOFOLLOW));
  } catch (err) {
    if (isGone(err)) return 'gone';
    entry.error = describeSystemError(err);
    return 'ok';
  }
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      const before = fs.fstatSync(fd, { bigint: true });
      if (!before.isFile() || before.ino.toString() !== ino) {
        entry.error = 'changed during scan: no longer the same regular file';
        return 'ok';
      }
      const hash = hashFd(fd, alg);
      const after = fs.fstatSync(fd, { bigint: true });
      if (after.ctimeNs === before.ctimeNs && after.size === before.size && after.mtimeNs === before.mtimeNs) {
        entry.size = Number(after.size);
        entry.mtime = formatTimeNs(after.mtimeNs);
        entry.hash = hash;
        entry.ctime = formatTimeNs(after.ctimeNs);
        return 'ok';
      }
    }
    entry.error = 'changed while being hashed';
    return 'ok';
  } catch (err) {
    entry.error = describeSystemError(err);
    return 'ok';
  } finally {
    fs.closeSync(fd);
  }
}
