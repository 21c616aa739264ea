import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { timeNs } from '../records/time';
import type { EntryBody, HashAlg } from '../records/types';
import { contentPadding, encodeHeader, type TarMember } from './tar-header';
import type { TarOut } from './tar-out';

/**
 * Writes a member without content (directory, link, special) or the
 * header and content of a file. The content is read once, straight into
 * the output buffer, and hashed on the way; the outcome says whether what
 * was read is what the plan describes.
 */
export async function writeMember(out: TarOut, m: TarMember): Promise<void> {
  await out.put(encodeHeader(m));
}

export interface Content {
  /** Open source file. */
  fd: number;
  offset: number;
  size: number;
  /** Expected `alg:hex` of these bytes, when known. */
  hash?: string;
  alg: HashAlg;
}

/** Why the stored bytes are not the planned ones, or undefined when they are. */
export async function writeFile(out: TarOut, m: TarMember, c: Content, src?: EntryBody): Promise<string | undefined> {
  // Checked against the plan a moment ago; checked again once read (below).
  let why: string | undefined;
  await out.put(encodeHeader(m));
  const h = c.hash !== undefined ? createHash(c.alg) : undefined;
  let pos = c.offset;
  const end = c.offset + c.size;
  while (pos < end) {
    const room = out.room();
    const want = Math.min(room.length, end - pos);
    const n = fs.readSync(c.fd, room, 0, want, pos);
    if (n === 0) {
      why = 'shorter than planned (changed while being read)';
      await out.zeros(end - pos);
      pos = end;
      break;
    }
    h?.update(room.subarray(0, n));
    pos += n;
    await out.advance(n);
  }
  await out.zeros(contentPadding(c.size));
  if (why === undefined && src !== undefined) {
    const st = fs.fstatSync(c.fd, { bigint: true });
    if (st.size !== BigInt(src.size ?? 0) || st.mtimeNs !== timeNs(src.mtime)) why = 'changed while being read';
  }
  if (why === undefined && h !== undefined && `${c.alg}:${h.digest('hex')}` !== c.hash) why = 'content differs from the planned hash (changed while being read)';
  return why;
}
