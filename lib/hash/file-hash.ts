import * as fs from 'node:fs';
import type { HashAlg } from '../records/types';
import { writeAll } from '../records/spool';
import { newDigest } from './digest';

/**
 * One read buffer for the process: 1 MiB reads keep pace with `openssl dgst`
 * and memory flat. It waits for the first file hashed: most runs of the
 * commands that import this hash nothing.
 */
let buffer: Buffer | undefined;

/**
 * Hash what an open file holds, from offset 0, as `alg:hex`. Synchronous on
 * purpose: node's crypto runs OpenSSL's digest code (and the BLAKE3 addon its own) on the bytes we hand it,
 * so the loop costs little over `openssl dgst`, and the scanner is in order
 * anyway.
 */
/** Hash the regular file at a path (not through a final symlink). */
export function hashFile(p: string | Buffer, alg: HashAlg): string {
  const fd = fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  try {
    return hashFd(fd, alg);
  } finally {
    fs.closeSync(fd);
  }
}

export function hashFd(fd: number, alg: HashAlg): string {
  buffer ??= Buffer.allocUnsafe(1 << 20);
  const h = newDigest(alg);
  let pos = 0;
  let n: number;
  while ((n = fs.readSync(fd, buffer, 0, buffer.length, pos)) > 0) {
    h.update(buffer.subarray(0, n));
    pos += n;
  }
  return `${alg}:${h.digest('hex')}`;
}

/**
 * Hash `size` bytes of an open file from `offset`: the part of a split
 * file; copied as they are read to `out` when given (a part cut out, or
 * laid out as its own file). A file that ends before throws, code ESHORT.
 */
export function hashRange(fd: number, offset: number, size: number, alg: HashAlg, out?: number): string {
  buffer ??= Buffer.allocUnsafe(1 << 20);
  const h = newDigest(alg);
  let pos = offset;
  const end = offset + size;
  while (pos < end) {
    const n = fs.readSync(fd, buffer, 0, Math.min(buffer.length, end - pos), pos);
    if (n === 0) throw Object.assign(new Error('EOF: the file is shorter than planned'), { code: 'ESHORT' });
    h.update(buffer.subarray(0, n));
    if (out !== undefined) writeAll(out, buffer.subarray(0, n));
    pos += n;
  }
  return `${alg}:${h.digest('hex')}`;
}
