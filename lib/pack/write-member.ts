import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { timeParts } from '../records/time';
import type { EntryBody, HashAlg } from '../records/types';
import { fstatOf } from '../tree/local/stat';
import { contentPadding, encodeHeader, type TarMember } from './tar-header';
import type { TarOut } from './tar-out';

/** Writes a member without content: directory, link, special. */
export function writeMember(out: TarOut, m: TarMember): Promise<void> | undefined {
  return out.put(encodeHeader(m));
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

/**
 * Writes the header and content of a file. The content is read once,
 * straight into the output buffer, and hashed on the way. Returns why the
 * stored bytes are not the planned ones (the file changed while it was
 * read), or undefined when they are. `src`, when given, is what the file
 * must still be once read (size and time).
 */
export function writeFile(out: TarOut, m: TarMember, c: Content, src?: EntryBody): string | undefined | Promise<string | undefined> {
  const header = encodeHeader(m);
  // The common case, a small file: all of it fits in the buffer, nothing goes out, no await.
  if (header.length + c.size + contentPadding(c.size) < out.room().length - 512) return writeSmall(out, header, c, src);
  return writeLarge(out, header, c, src);
}

function writeSmall(out: TarOut, header: Buffer, c: Content, src?: EntryBody): string | undefined {
  let why: string | undefined;
  void out.put(header);
  const room = out.room();
  let got = 0;
  while (got < c.size) {
    const n = fs.readSync(c.fd, room, got, c.size - got, c.offset + got);
    if (n === 0) break;
    got += n;
  }
  if (got < c.size) {
    why = 'shorter than planned (changed while being read)';
    room.fill(0, got, c.size);
  }
  room.fill(0, c.size, c.size + contentPadding(c.size));
  const h = c.hash !== undefined && why === undefined ? createHash(c.alg).update(room.subarray(0, c.size)) : undefined;
  void out.advance(c.size + contentPadding(c.size));
  if (why === undefined && src !== undefined && !unchanged(c.fd, src)) why = 'changed while being read';
  if (why === undefined && h !== undefined && `${c.alg}:${h.digest('hex')}` !== c.hash) why = 'content differs from the planned hash (changed while being read)';
  return why;
}

async function writeLarge(out: TarOut, header: Buffer, c: Content, src?: EntryBody): Promise<string | undefined> {
  let why: string | undefined;
  let p = out.put(header);
  if (p) await p;
  const h = c.hash !== undefined ? createHash(c.alg) : undefined;
  let pos = c.offset;
  const end = c.offset + c.size;
  while (pos < end) {
    const room = out.room();
    const n = fs.readSync(c.fd, room, 0, Math.min(room.length, end - pos), pos);
    if (n === 0) {
      why = 'shorter than planned (changed while being read)';
      p = out.zeros(end - pos);
      if (p) await p;
      pos = end;
      break;
    }
    h?.update(room.subarray(0, n));
    pos += n;
    p = out.advance(n);
    if (p) await p;
  }
  p = out.zeros(contentPadding(c.size));
  if (p) await p;
  if (why === undefined && src !== undefined && !unchanged(c.fd, src)) why = 'changed while being read';
  if (why === undefined && h !== undefined && `${c.alg}:${h.digest('hex')}` !== c.hash) why = 'content differs from the planned hash (changed while being read)';
  return why;
}

/** The open file still has the planned size and time. */
function unchanged(fd: number, src: EntryBody): boolean {
  const st = fstatOf(fd);
  const [sec, nsec] = timeParts(src.mtime);
  return st.size === (src.size ?? 0) && st.mtimeSec === sec && st.mtimeNsec === nsec;
}
