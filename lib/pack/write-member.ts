import * as fs from 'node:fs';
import { hexOf, newDigest } from '../hash/digest';
import { timeParts } from '../records/time';
import type { EntryBody, HashAlg } from '../records/types';
import { fstatOf } from '../tree/local/stat';
import { contentPadding, encodeHeader, type TarMember } from './tar-header';
import type { TarOut } from './tar-out';
import { ThreadHasher } from './hasher';

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
export function writeFile(out: TarOut, m: TarMember, c: Content, src?: EntryBody, header: Buffer = encodeHeader(m)): string | undefined | Promise<string | undefined> {
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
  const hex = c.hash !== undefined && why === undefined ? hexOf(c.alg, room.subarray(0, c.size)) : undefined;
  void out.advance(c.size + contentPadding(c.size));
  if (why === undefined && src !== undefined && !unchanged(c.fd, src)) why = 'changed while being read';
  if (why === undefined && hex !== undefined && `${c.alg}:${hex}` !== c.hash) why = 'content differs from the planned hash (changed while being read)';
  return why;
}

/** Bytes read at a time from a large file. */
const CHUNK = 1 << 20;

function readAsync(fd: number, into: Buffer, position: number): Promise<number> {
  return new Promise((resolve, reject) => fs.read(fd, into, 0, into.length, position, (err, n) => (err ? reject(err) : resolve(n))));
}

/**
 * A large file: each chunk is read in libuv's threads straight into the
 * output buffer while the chunk before it is hashed here and the buffer
 * before that is written out, so hashing (the slowest of the three for
 * sha256) overlaps the I/O. A chunk being hashed is never read into or
 * reused: the output only recycles a buffer after its write, which the next
 * flush awaits.
 */
/** Files this large are hashed in a thread of their own: below, starting it and talking to it costs more than it saves. */
const THREAD_HASH = 16 << 20;
/** The hashing thread of each output: it reads that output's buffers, and no other's. */
const hashers = new WeakMap<TarOut, ThreadHasher>();

/** The hashing thread of an output, started on first need. */
export function hasherOf(out: TarOut): ThreadHasher {
  let hasher = hashers.get(out);
  if (hasher === undefined) hashers.set(out, (hasher = new ThreadHasher(out.shared)));
  return hasher;
}

/** Stops the hashing thread of an output, if one was started. */
export async function closeHasher(out: TarOut): Promise<void> {
  await hashers.get(out)?.close();
  hashers.delete(out);
}

async function writeLarge(out: TarOut, header: Buffer, c: Content, src?: EntryBody): Promise<string | undefined> {
  let why: string | undefined;
  let p = out.put(header);
  if (p) await p;
  const threaded = c.hash !== undefined && c.size >= THREAD_HASH;
  const hasher = threaded ? hasherOf(out) : undefined;
  if (threaded) hasher!.start(c.alg);
  const h = c.hash !== undefined && !threaded ? newDigest(c.alg) : undefined;
  const end = c.offset + c.size;
  let pos = c.offset;
  const next = (): { into: Buffer; at: { index: number; offset: number }; read: Promise<number> } | undefined => {
    if (pos >= end) return undefined;
    const into = out.room().subarray(0, Math.min(CHUNK, end - pos, out.room().length - 512));
    return { into, at: out.at, read: readAsync(c.fd, into, pos) };
  };
  let reading = next();
  while (reading !== undefined) {
    const n = await reading.read;
    if (n === 0) {
      why = 'shorter than planned (changed while being read)';
      p = out.zeros(end - pos);
      if (p) await p;
      pos = end;
      break;
    }
    const got = reading.into.subarray(0, n);
    // Guarded before advance(): the buffer may go out (and later be reused) in it.
    if (threaded) out.guard(hasher!.update(reading.at.index, reading.at.offset, n));
    pos += n;
    p = out.advance(n);
    if (p) await p;
    reading = next();
    h?.update(got);
  }
  p = out.zeros(contentPadding(c.size));
  if (p) await p;
  const digest = threaded ? await hasher!.digest() : h?.digest('hex');
  if (why === undefined && src !== undefined && !unchanged(c.fd, src)) why = 'changed while being read';
  if (why === undefined && digest !== undefined && `${c.alg}:${digest}` !== c.hash) why = 'content differs from the planned hash (changed while being read)';
  return why;
}

/** The open file still has the planned size and time. */
function unchanged(fd: number, src: EntryBody): boolean {
  const st = fstatOf(fd);
  const [sec, nsec] = timeParts(src.mtime);
  return st.size === (src.size ?? 0) && st.mtimeSec === sec && st.mtimeNsec === nsec;
}
