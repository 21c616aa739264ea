/**
 * POSIX pax member headers (ustar block, preceded by a typeflag 'x' extended
 * header only when some value does not fit ustar) for cairn-pack.
 *
 * Exactness first: every value the caller gives is either stored exactly in
 * the ustar block or carried exactly by a pax record; the encoder throws rather
 * than write anything lossy. Speed second: a pack writes one header per member,
 * so the common case (short name, whole-second mtime, small ids) allocates only
 * the returned 512-byte Buffer; pax values are written straight into it.
 *
 * Choices, checked against GNU tar 1.34 and bsdtar 3.6.2 (see
 * test/pack/tar-header.test.ts):
 * - Names and link targets go into ustar as raw bytes whenever they fit, ASCII
 *   or not: both tools and tar-stream read ustar names as bytes without any
 *   charset conversion, so raw is the exact form. A `path`/`linkpath` record is
 *   written only when the bytes do not fit (name 100, or prefix 155 + '/' + name 100;
 *   linkname 100).
 * - Such a record whose bytes are not valid UTF-8 is announced by
 *   `hdrcharset=BINARY` (POSIX; libarchive then takes the bytes as they are; GNU
 *   tar ignores the keyword and falls back to the raw bytes when UTF-8
 *   conversion fails, which gives the same result).
 * - `mtime` is the exact decimal value in seconds (POSIX semantics): 1.5 s
 *   before the epoch is `-1.5`, as GNU tar writes and reads it. libarchive 3.6
 *   writes and reads negative fractions differently (`-2.5` for that instant),
 *   so bsdtar is off for negative non-integral times; we follow the standard.
 * - Overflowing ustar numeric fields: size 0 and mtime clamped to 0 or the
 *   octal maximum (as GNU tar does for mtime below 0); uid/gid get 07777777, not
 *   GNU tar's 0, so a reader that ignores pax never makes a file root-owned.
 */
import { isUtf8 } from 'node:buffer';

export type TarType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'fifo' | 'char' | 'block';

export interface TarMember {
  /** Raw bytes of the member name, no trailing slash (the encoder adds '/' for dirs). */
  path: Buffer;
  type: TarType;
  /** Content bytes that follow (0 unless file); may exceed 8 GiB. */
  size: number;
  /** Nanoseconds since the epoch; may be negative or beyond 2242. */
  mtimeNs: bigint;
  /** Permission bits incl. setuid/setgid/sticky (file-type bits are ignored: typeflag says the type). */
  mode: number;
  uid: number;
  gid: number;
  uname?: string;
  gname?: string;
  /** Symlink target or hard-link target member name (raw bytes). */
  linkname?: Buffer;
  /** Char and block devices. */
  rdev?: { major: number; minor: number };
  /** Extra pax records, emitted in order after the encoder's own. */
  pax?: [string, string][];
}

const BLOCK = 512;
const SLASH = 0x2f;

// ustar field offsets and widths (POSIX.1-2008, pax "ustar Interchange Format").
const NAME = 0, NAME_LEN = 100;
const MODE = 100, UID = 108, GID = 116, ID_LEN = 8;
const SIZE = 124, MTIME = 136, BIG_LEN = 12;
const CHKSUM = 148;
const TYPEFLAG = 156;
const LINKNAME = 157, LINK_LEN = 100;
const MAGIC = 257;
const UNAME = 265, GNAME = 297;
/** The owner fields are NUL-terminated strings, so 31 bytes of name at most. */
const OWNER_MAX = 31;
const DEVMAJOR = 329, DEVMINOR = 337;
const PREFIX = 345, PREFIX_LEN = 155;

const OCTAL7_MAX = 0o7777777;
const OCTAL11_MAX = 0o77777777777; // 8^11 - 1
const NS_PER_S = 1_000_000_000n;
/** mtimes in [0, this) with no fraction fit the ustar field alone. */
const MTIME_USTAR_LIMIT = BigInt(OCTAL11_MAX + 1) * NS_PER_S;
const MAX_SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);

const TYPE_FLAGS: Readonly<Record<TarType, number>> = {
  file: 0x30, hardlink: 0x31, symlink: 0x32, char: 0x33, block: 0x34, dir: 0x35, fifo: 0x36,
};

/** Keywords the encoder owns: a duplicate from `pax` would contradict the header. */
const OWN_KEYWORDS = new Set(['hdrcharset', 'path', 'linkpath', 'mtime', 'uid', 'gid', 'uname', 'gname', 'size']);

const PAX_NAME_PREFIX = 'PaxHeaders/';

/**
 * Headers are cut from zeroed 256 KiB slabs: a Buffer.alloc per header (its own
 * ArrayBuffer) cost about 1 us, more than encoding it. Slab memory is never
 * reused, so it is zero wherever the encoder does not write; a header kept
 * alive keeps its slab alive, as with Node's own Buffer pool. Offsets stay
 * multiples of 512, so the checksum can read aligned 32-bit words.
 */
const SLAB_SIZE = 256 * 1024;
let slabWords = new Uint32Array(SLAB_SIZE / 4);
let slabUsed = 0;

function newSlab(): void {
  slabWords = new Uint32Array(SLAB_SIZE / 4);
  slabUsed = 0;
}

/** Two zero blocks. Shared: do not write into it. */
export const END_OF_ARCHIVE: Buffer = Buffer.alloc(2 * BLOCK);

/** Zero bytes after `size` content bytes to reach a multiple of 512. */
export function contentPadding(size: number): number {
  checkCount(size, 'size');
  const r = size % BLOCK;
  return r === 0 ? 0 : BLOCK - r;
}

/** Bytes the member takes in the archive: header(s), content, padding. */
export function memberSize(m: TarMember): number {
  return encodeHeader(m).length + m.size + contentPadding(m.size);
}

/** The pax 'x' header and its records (when needed), then the ustar header. */
export function encodeHeader(m: TarMember): Buffer {
  const flag = TYPE_FLAGS[m.type];
  if (flag === undefined) throw new TypeError(`tar header: unknown type ${String(m.type)}`);
  const isDir = m.type === 'dir';

  const path = m.path;
  checkBytes(path, 'path');
  if (path[path.length - 1] === SLASH) throw new RangeError('tar header: path must not end with "/"');
  const nameLen = path.length + (isDir ? 1 : 0);
  // 0: the whole name fits `name`; > 0: prefix length; -1: needs a pax record.
  const split = nameLen <= NAME_LEN ? 0 : splitPoint(path, nameLen);
  const paxPath = split < 0;

  const needsLink = m.type === 'symlink' || m.type === 'hardlink';
  const link = m.linkname;
  if (needsLink) checkBytes(link, 'linkname');
  else if (link !== undefined) throw new TypeError(`tar header: linkname given for a ${m.type}`);
  const paxLink = link !== undefined && link.length > LINK_LEN;

  const size = m.size;
  checkCount(size, 'size');
  if (size !== 0 && m.type !== 'file') throw new RangeError(`tar header: a ${m.type} has no content, size must be 0`);
  const paxSize = size > OCTAL11_MAX;

  const uid = m.uid, gid = m.gid;
  checkCount(uid, 'uid');
  checkCount(gid, 'gid');
  const paxUid = uid > OCTAL7_MAX, paxGid = gid > OCTAL7_MAX;

  const uname = m.uname ?? '', gname = m.gname ?? '';
  const unameLen = storableLength(uname, 'uname'), gnameLen = storableLength(gname, 'gname');
  // UTF-8 length === UTF-16 length exactly when every unit is ASCII.
  const paxUname = unameLen > OWNER_MAX || unameLen !== uname.length;
  const paxGname = gnameLen > OWNER_MAX || gnameLen !== gname.length;

  let major = 0, minor = 0;
  if (m.type === 'char' || m.type === 'block') {
    if (m.rdev === undefined) throw new TypeError(`tar header: a ${m.type} device needs rdev`);
    major = m.rdev.major;
    minor = m.rdev.minor;
    // No pax keyword for these in POSIX; Linux majors (12 bits) and minors (20 bits) always fit.
    if (!Number.isInteger(major) || major < 0 || major > OCTAL7_MAX) throw new RangeError(`tar header: devmajor ${major} out of range`);
    if (!Number.isInteger(minor) || minor < 0 || minor > OCTAL7_MAX) throw new RangeError(`tar header: devminor ${minor} out of range`);
  }

  // mtime: whole seconds in [0, 8^11) go in ustar alone; anything else also
  // as a pax record of sign, seconds and the fraction without trailing zeros.
  const ns = m.mtimeNs;
  if (typeof ns !== 'bigint') throw new TypeError('tar header: mtimeNs must be a bigint');
  let mtimeField: number;
  let paxMtime = false, mNeg = false, mSec = 0, mFrac = 0;
  if (ns >= 0n && ns < MTIME_USTAR_LIMIT) {
    mtimeField = Number(ns / NS_PER_S);
    mFrac = Number(ns % NS_PER_S);
    if (mFrac !== 0) { paxMtime = true; mSec = mtimeField; }
  } else {
    paxMtime = true;
    mNeg = ns < 0n;
    const abs = mNeg ? -ns : ns;
    const sec = abs / NS_PER_S;
    if (sec > MAX_SAFE_BIG) throw new RangeError(`tar header: mtimeNs ${ns} out of range`);
    mSec = Number(sec);
    mFrac = Number(abs % NS_PER_S);
    mtimeField = mNeg ? 0 : OCTAL11_MAX;
  }
  let fracDigits = 0;
  if (mFrac !== 0) {
    fracDigits = 9;
    while (mFrac % 10 === 0) { mFrac /= 10; fracDigits--; }
  }
  const mtimeLen = (mNeg ? 1 : 0) + decimalDigits(mSec) + (fracDigits > 0 ? 1 + fracDigits : 0);

  const binary = (paxPath && !isUtf8(path)) || (paxLink && !isUtf8(link!));

  // Pass 1: the size of the extended header's records.
  let paxLen = 0;
  if (binary) paxLen += recordLength(10, 6); // hdrcharset=BINARY
  if (paxPath) paxLen += recordLength(4, nameLen);
  if (paxLink) paxLen += recordLength(8, link!.length);
  if (paxMtime) paxLen += recordLength(5, mtimeLen);
  if (paxUid) paxLen += recordLength(3, decimalDigits(uid));
  if (paxGid) paxLen += recordLength(3, decimalDigits(gid));
  if (paxUname) paxLen += recordLength(5, unameLen);
  if (paxGname) paxLen += recordLength(5, gnameLen);
  if (paxSize) paxLen += recordLength(4, decimalDigits(size));
  const extra = m.pax;
  if (extra !== undefined) {
    for (let i = 0; i < extra.length; i++) {
      const rec = extra[i]!;
      paxLen += recordLength(extraKeyLength(rec[0]), storableLength(rec[1], 'pax value'));
    }
  }

  const paxBlocks = paxLen === 0 ? 0 : BLOCK + paxLen + padding(paxLen);
  const total = paxBlocks + BLOCK;
  let words: Uint32Array, at: number;
  if (total <= SLAB_SIZE) {
    if (slabUsed + total > SLAB_SIZE) newSlab();
    words = slabWords;
    at = slabUsed;
    slabUsed += total;
  } else {
    words = new Uint32Array(total / 4);
    at = 0;
  }
  const buf = Buffer.from(words.buffer, at, total);

  // Pass 2: the extended header, then its records, in a fixed order.
  if (paxLen > 0) {
    writePaxName(buf, path);
    writeOctal(buf, MODE, ID_LEN, 0o644);
    writeOctal(buf, UID, ID_LEN, 0);
    writeOctal(buf, GID, ID_LEN, 0);
    writeOctal(buf, SIZE, BIG_LEN, paxLen);
    writeOctal(buf, MTIME, BIG_LEN, mtimeField);
    buf[TYPEFLAG] = 0x78; // 'x'
    writeMagic(buf, 0);
    writeOctal(buf, DEVMAJOR, ID_LEN, 0);
    writeOctal(buf, DEVMINOR, ID_LEN, 0);
    writeChecksum(buf, 0, words, at);

    let o = BLOCK;
    if (binary) {
      o = recordHead(buf, o, 'hdrcharset', 10, 6);
      o = writeAscii(buf, o, 'BINARY');
      buf[o++] = 0x0a;
    }
    if (paxPath) {
      o = recordHead(buf, o, 'path', 4, nameLen);
      o += path.copy(buf, o);
      if (isDir) buf[o++] = SLASH;
      buf[o++] = 0x0a;
    }
    if (paxLink) {
      o = recordHead(buf, o, 'linkpath', 8, link!.length);
      o += link!.copy(buf, o);
      buf[o++] = 0x0a;
    }
    if (paxMtime) {
      o = recordHead(buf, o, 'mtime', 5, mtimeLen);
      if (mNeg) buf[o++] = 0x2d; // '-'
      o = writeDecimal(buf, o, mSec, decimalDigits(mSec));
      if (fracDigits > 0) {
        buf[o++] = 0x2e; // '.'
        o = writeDecimal(buf, o, mFrac, fracDigits); // zero-padded on the left
      }
      buf[o++] = 0x0a;
    }
    if (paxUid) o = numberRecord(buf, o, 'uid', uid);
    if (paxGid) o = numberRecord(buf, o, 'gid', gid);
    if (paxUname) o = stringRecord(buf, o, 'uname', 5, uname, unameLen);
    if (paxGname) o = stringRecord(buf, o, 'gname', 5, gname, gnameLen);
    if (paxSize) o = numberRecord(buf, o, 'size', size);
    if (extra !== undefined) {
      for (let i = 0; i < extra.length; i++) {
        const rec = extra[i]!;
        const k = rec[0], v = rec[1];
        o = recordHead(buf, o, k, Buffer.byteLength(k), Buffer.byteLength(v));
        o += buf.write(v, o, 'utf8');
        buf[o++] = 0x0a;
      }
    }
    if (o !== BLOCK + paxLen) throw new Error(`tar header: internal error, pax length ${o - BLOCK} != ${paxLen}`);
  }

  // The ustar header.
  const h = paxBlocks;
  if (split === 0) {
    path.copy(buf, h + NAME);
    if (isDir) buf[h + NAME + path.length] = SLASH;
  } else if (split > 0) {
    path.copy(buf, h + PREFIX, 0, split);
    path.copy(buf, h + NAME, split + 1);
    if (isDir) buf[h + NAME + path.length - split - 1] = SLASH;
  } else {
    // For readers that ignore pax only; the path record is the truth.
    path.copy(buf, h + NAME, 0, utf8Cut(path, 0, NAME_LEN));
  }
  writeOctal(buf, h + MODE, ID_LEN, m.mode & 0o7777);
  writeOctal(buf, h + UID, ID_LEN, paxUid ? OCTAL7_MAX : uid);
  writeOctal(buf, h + GID, ID_LEN, paxGid ? OCTAL7_MAX : gid);
  writeOctal(buf, h + SIZE, BIG_LEN, paxSize ? 0 : size);
  writeOctal(buf, h + MTIME, BIG_LEN, mtimeField);
  buf[h + TYPEFLAG] = flag;
  if (link !== undefined) link.copy(buf, h + LINKNAME, 0, paxLink ? utf8Cut(link, 0, LINK_LEN) : link.length);
  writeMagic(buf, h);
  if (!paxUname) writeAscii(buf, h + UNAME, uname);
  if (!paxGname) writeAscii(buf, h + GNAME, gname);
  writeOctal(buf, h + DEVMAJOR, ID_LEN, major);
  writeOctal(buf, h + DEVMINOR, ID_LEN, minor);
  writeChecksum(buf, h, words, at + h);
  return buf;
}

/**
 * Where to split a name too long for `name` into prefix '/' name: the last
 * '/' that leaves a prefix of at most 155 bytes (GNU tar's choice, so equal
 * names give equal headers), provided the rest is 1..100 bytes; else -1. Only
 * bytes of `path` are examined: a directory's added '/' can never be the split.
 */
function splitPoint(path: Buffer, nameLen: number): number {
  for (let i = Math.min(PREFIX_LEN, nameLen - 2); i > 0; i--) {
    if (path[i] === SLASH) return nameLen - i - 1 <= NAME_LEN ? i : -1;
  }
  return -1;
}

/** `PaxHeaders/<basename>`, the basename cut to keep the name within 100 bytes. */
function writePaxName(buf: Buffer, path: Buffer): void {
  const o = writeAscii(buf, NAME, PAX_NAME_PREFIX);
  const base = path.lastIndexOf(SLASH) + 1;
  path.copy(buf, o, base, utf8Cut(path, base, NAME_LEN - o));
}

/**
 * End of the first `max` bytes from `start`, moved back off UTF-8
 * continuation bytes (at most 3) so a cut name stays readable.
 */
function utf8Cut(b: Buffer, start: number, max: number): number {
  let end = start + max;
  if (end >= b.length) return b.length;
  for (let k = 0; k < 3 && end > start && (b[end]! & 0xc0) === 0x80; k++) end--;
  return end;
}

/** "ustar\0" and version "00". */
function writeMagic(buf: Buffer, h: number): void {
  writeAscii(buf, h + MAGIC, 'ustar\u000000');
}

/**
 * Byte per UTF-16 unit, for strings known to be ASCII. For header-sized
 * strings a plain loop is several times cheaper than buf.write's native call.
 */
function writeAscii(buf: Buffer, off: number, s: string): number {
  for (let i = 0; i < s.length; i++) buf[off + i] = s.charCodeAt(i);
  return off + s.length;
}

/** `width - 1` zero-padded octal digits and a NUL, as GNU tar writes them. */
function writeOctal(buf: Buffer, off: number, width: number, value: number): void {
  let i = off + width - 2;
  let v = value;
  // Beyond 31 bits (sizes over 2 GiB, mtimes after 2038) bit operations would
  // wrap, so peel off digits in floating point first.
  while (v > 0x7fffffff) {
    buf[i--] = 0x30 + (v % 8);
    v = Math.floor(v / 8);
  }
  for (; i >= off; i--) {
    buf[i] = 0x30 + (v & 7);
    v >>>= 3;
  }
  buf[off + width - 1] = 0;
}

/**
 * Sum of the block's bytes with the checksum field counted as spaces (it is
 * still zero here); written as six digits, NUL, space. Summed a word at a time,
 * two bytes per 16-bit lane (128 words x 510 < 65536, so lanes never carry):
 * 4x fewer steps than byte by byte, which was the encoder's hottest loop.
 */
function writeChecksum(buf: Buffer, h: number, words: Uint32Array, byteAt: number): void {
  let lanes = 0;
  for (let i = byteAt >>> 2, end = i + BLOCK / 4; i < end; i++) {
    const w = words[i]!;
    lanes += (w & 0x00ff00ff) + ((w >>> 8) & 0x00ff00ff);
  }
  const sum = (lanes & 0xffff) + Math.floor(lanes / 0x10000) + 8 * 0x20;
  writeOctal(buf, h + CHKSUM, 7, sum);
  buf[h + CHKSUM + 7] = 0x20;
}

function decimalDigits(n: number): number {
  let d = 1;
  while (n >= 10) { n = Math.floor(n / 10); d++; }
  return d;
}

/** Writes `n` as exactly `digits` decimal digits (zero-padded); returns the end. */
function writeDecimal(buf: Buffer, off: number, n: number, digits: number): number {
  for (let i = off + digits - 1; i >= off; i--) {
    buf[i] = 0x30 + (n % 10);
    n = Math.floor(n / 10);
  }
  return off + digits;
}

/**
 * Length of the record `"%d %s=%s\n"`: the decimal prefix counts itself, so
 * one more digit is needed when adding the prefix crosses a power of ten
 * (e.g. a 98-byte rest makes 101, not 100).
 */
function recordLength(keyLen: number, valueLen: number): number {
  const rest = keyLen + valueLen + 3; // ' ', '=', '\n'
  let d = decimalDigits(rest);
  if (decimalDigits(rest + d) > d) d++;
  return rest + d;
}

/** Writes `"<len> <key>="`; returns where the value goes. */
function recordHead(buf: Buffer, off: number, key: string, keyLen: number, valueLen: number): number {
  const len = recordLength(keyLen, valueLen);
  let o = writeDecimal(buf, off, len, decimalDigits(len));
  buf[o++] = 0x20;
  o += buf.write(key, o, 'utf8');
  buf[o++] = 0x3d; // '='
  return o;
}

function numberRecord(buf: Buffer, off: number, key: string, n: number): number {
  const digits = decimalDigits(n);
  let o = recordHead(buf, off, key, key.length, digits);
  o = writeDecimal(buf, o, n, digits);
  buf[o++] = 0x0a;
  return o;
}

function stringRecord(buf: Buffer, off: number, key: string, keyLen: number, value: string, valueLen: number): number {
  let o = recordHead(buf, off, key, keyLen, valueLen);
  o += buf.write(value, o, 'utf8');
  buf[o++] = 0x0a;
  return o;
}

function padding(n: number): number {
  const r = n % BLOCK;
  return r === 0 ? 0 : BLOCK - r;
}

function checkCount(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`tar header: ${what} ${n} is not a non-negative safe integer`);
}

/** Names are byte strings ended by NUL in ustar: a NUL inside cannot be stored exactly. */
function checkBytes(b: Buffer | undefined, what: string): asserts b is Buffer {
  if (!Buffer.isBuffer(b)) throw new TypeError(`tar header: ${what} must be a Buffer`);
  if (b.length === 0) throw new RangeError(`tar header: empty ${what}`);
  if (b.indexOf(0) !== -1) throw new RangeError(`tar header: ${what} contains a NUL byte`);
}

/** A lone UTF-16 surrogate would be written as U+FFFD: not exact, so refused. */
const LONE_SURROGATE = /\p{Cs}/u;

/** UTF-8 length of a string value, refusing what cannot be stored exactly. */
function storableLength(s: string, what: string): number {
  if (typeof s !== 'string') throw new TypeError(`tar header: ${what} must be a string`);
  // Short ASCII strings (the usual owner names) are measured by this loop, a
  // cheaper step than Buffer.byteLength's native call.
  let ascii = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0 || c > 0x7f) { ascii = false; break; }
  }
  if (ascii) return s.length;
  const n = Buffer.byteLength(s);
  if (s.indexOf('\0') !== -1 || LONE_SURROGATE.test(s)) {
    throw new RangeError(`tar header: ${what} ${JSON.stringify(s)} cannot be stored exactly`);
  }
  return n;
}

function extraKeyLength(k: string): number {
  if (typeof k !== 'string' || k.length === 0 || k.indexOf('=') !== -1 || k.indexOf('\n') !== -1) {
    throw new RangeError(`tar header: bad pax keyword ${JSON.stringify(k)}`);
  }
  if (OWN_KEYWORDS.has(k)) throw new RangeError(`tar header: pax keyword ${k} is set by the encoder`);
  return storableLength(k, 'pax keyword');
}
