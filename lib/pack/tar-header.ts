/**
 * POSIX pax member headers for cairn-pack: a ustar block, preceded by a
 * typeflag 'x' extended header only when some value does not fit ustar.
 *
 * Exact first: every value is stored exactly, in the ustar block or in a pax
 * record; what cannot be (a NUL in a name, a lone surrogate in an owner name,
 * an out-of-range device number) throws instead of being written lossy.
 * Fast second: cairn-pack encodes one header per member. The returned Buffer
 * is the only Buffer, string or array made per call (splitting mtimeNs makes
 * two small BigInts); pax values are written straight into it as digits, and
 * checksums are summed while fields are written.
 *
 * Choices, checked against GNU tar 1.34, bsdtar 3.6.2 and tar-stream 3 (see
 * test/pack/tar-header.test.ts):
 * - Names and link targets go into ustar as raw bytes whenever they fit, ASCII
 *   or not. All three read ustar names as bytes, with no charset conversion,
 *   in any locale. A `path`/`linkpath` record is written only when the bytes do
 *   not fit (name 100, or prefix 155 + '/' + name 100; linkname 100): there
 *   bsdtar converts from UTF-8 to the locale and complains (exit 1) in the C
 *   locale, though it still writes the right bytes.
 * - A header whose path/linkpath record is not valid UTF-8 starts with
 *   `hdrcharset=BINARY` (POSIX). Without it bsdtar exits 1 ("Pathname can't be
 *   converted from UTF-8"); with it bsdtar takes the bytes silently. GNU tar
 *   warns "Ignoring unknown extended header keyword 'hdrcharset'", exits 0 and
 *   uses the raw bytes anyway (its UTF-8 conversion fails and falls back).
 * - `mtime` is the exact value in decimal seconds (POSIX): 1.5 s before the
 *   epoch is `-1.5`, which GNU tar writes and extracts exactly. libarchive
 *   (bsdtar 3.6.2) reads the fraction as positive whatever the sign (`-1.5` as
 *   -0.5 s) and writes `-2.5` for that instant; no single string serves both,
 *   so we keep the standard. Whole and positive times are exact in bsdtar.
 * - ustar numeric fields that overflow: size 0 (GNU tar does the same),
 *   mtime clamped to 0 or to the octal maximum; uid/gid 07777777 rather than
 *   GNU tar's 0, so a reader ignoring pax never makes a file root-owned. Owner
 *   names in pax leave the ustar field empty, so such a reader never maps a
 *   cut name to some other user.
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
  /** Permission bits incl. setuid/setgid/sticky; file-type bits are ignored (typeflag carries the type). */
  mode: number;
  uid: number;
  gid: number;
  uname?: string;
  gname?: string;
  /** Symlink target or hard-link target member name (raw bytes); required for those two types only. */
  linkname?: Buffer;
  /** Char and block devices; required for those two types. */
  rdev?: { major: number; minor: number };
  /** Extra pax records, emitted in order after the encoder's own. */
  pax?: [string, string][];
}

const BLOCK = 512;
const SLASH = 0x2f;
const NL = 0x0a;
const ZERO = 0x30;

// ustar field offsets and widths (POSIX.1-2008, pax "ustar Interchange Format").
const NAME = 0, NAME_LEN = 100;
const MODE = 100, UID = 108, GID = 116, ID_LEN = 8;
const SIZE = 124, MTIME = 136, BIG_LEN = 12;
const CHKSUM = 148;
const TYPEFLAG = 156;
const LINKNAME = 157, LINK_LEN = 100;
const MAGIC = 257; // "ustar\0" then version "00"
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

/** A lone UTF-16 surrogate would be written as U+FFFD: not exact, so refused. */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * The constant part of every extended header, up to the prefix field:
 * name `PaxHeaders/` (the basename follows), mode 0644, ids 0, typeflag 'x',
 * magic, devices 0. Like GNU tar's `%d/PaxHeaders/%f` without the directory,
 * which would not fit; deterministic (no pid).
 */
const PAX_PREFIX_NAME = 'PaxHeaders/';
const PAX_TEMPLATE = Buffer.alloc(PREFIX);
/** Byte sum of PAX_TEMPLATE, the start of each extended header's checksum. */
const PAX_TEMPLATE_SUM =
  writeAscii(PAX_TEMPLATE, NAME, PAX_PREFIX_NAME) +
  writeOctal(PAX_TEMPLATE, MODE, ID_LEN, 0o644) +
  writeOctal(PAX_TEMPLATE, UID, ID_LEN, 0) +
  writeOctal(PAX_TEMPLATE, GID, ID_LEN, 0) +
  (PAX_TEMPLATE[TYPEFLAG] = 0x78) + // 'x'
  writeMagic(PAX_TEMPLATE, 0) +
  writeOctal(PAX_TEMPLATE, DEVMAJOR, ID_LEN, 0) +
  writeOctal(PAX_TEMPLATE, DEVMINOR, ID_LEN, 0);

/**
 * Headers are cut from zeroed 256 KiB slabs: a Buffer.alloc per header (its
 * own ArrayBuffer) cost about 1 us, more than encoding it; 64 KiB slabs were
 * no faster. Slab memory is never reused, so it is zero wherever the encoder
 * does not write; a header kept alive keeps its slab alive, as with Node's
 * own Buffer pool.
 */
const SLAB_SIZE = 256 * 1024;
let slab = Buffer.alloc(SLAB_SIZE);
let slabUsed = 0;

function take(n: number): Buffer {
  if (n > SLAB_SIZE) return Buffer.alloc(n);
  if (slabUsed + n > SLAB_SIZE) {
    slab = Buffer.alloc(SLAB_SIZE);
    slabUsed = 0;
  }
  const b = slab.subarray(slabUsed, slabUsed + n);
  slabUsed += n;
  return b;
}

/** Two zero blocks. Shared: do not write into it. */
export const END_OF_ARCHIVE: Buffer = Buffer.alloc(2 * BLOCK);

/** Zero bytes after `size` content bytes to reach a multiple of 512. */
export function contentPadding(size: number): number {
  checkCount(size, 'size');
  return padding(size);
}

/** Bytes the member takes in the archive: header(s), content, padding. */
export function memberSize(m: TarMember): number {
  return encodeHeader(m).length + m.size + contentPadding(m.size);
}

/** The pax 'x' header and its records (when needed), then the ustar header. */
export function encodeHeader(m: TarMember): Buffer {
  const flag = Object.hasOwn(TYPE_FLAGS, m.type) ? TYPE_FLAGS[m.type] : undefined;
  if (flag === undefined) throw new TypeError(`tar header: unknown type ${String(m.type)}`);
  checkCount(m.mode, 'mode');
  const isDir = m.type === 'dir';

  const path = m.path;
  checkBytes(path, 'path');
  if (path[path.length - 1] === SLASH) throw new RangeError('tar header: path must not end with "/"');
  const nameLen = path.length + (isDir ? 1 : 0);
  // 0: the whole name fits `name`; > 0: prefix length; -1: needs a pax record.
  const split = nameLen <= NAME_LEN ? 0 : splitPoint(path, nameLen);
  const paxPath = split < 0;

  const link = m.linkname;
  if (m.type === 'symlink' || m.type === 'hardlink') checkBytes(link, 'linkname');
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
    // POSIX has no pax keyword for these; Linux majors (12 bits) and minors (20 bits) always fit.
    if (!Number.isInteger(major) || major < 0 || major > OCTAL7_MAX) throw new RangeError(`tar header: devmajor ${major} out of range`);
    if (!Number.isInteger(minor) || minor < 0 || minor > OCTAL7_MAX) throw new RangeError(`tar header: devminor ${minor} out of range`);
  }

  // mtime: whole seconds in [0, 8^11) go in ustar alone; anything else also
  // as a record of sign, whole seconds and the fraction without trailing zeros.
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
  const mSecDigits = decimalDigits(mSec);
  const mtimeLen = (mNeg ? 1 : 0) + mSecDigits + (fracDigits > 0 ? 1 + fracDigits : 0);

  const binary = (paxPath && !isUtf8(path)) || (paxLink && !isUtf8(link!));

  // Pass 1: the size of the extended header's records, in the order of pass 2.
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
      paxLen += recordLength(keywordLength(rec[0]), storableLength(rec[1], 'pax value'));
    }
  }

  const paxBlocks = paxLen === 0 ? 0 : BLOCK + paxLen + padding(paxLen);
  const buf = take(paxBlocks + BLOCK);

  // Pass 2: the extended header and its records.
  if (paxLen > 0) {
    PAX_TEMPLATE.copy(buf, 0);
    let sum = PAX_TEMPLATE_SUM;
    const base = path.lastIndexOf(SLASH) + 1;
    const at = PAX_PREFIX_NAME.length;
    sum += copySum(path, base, utf8Cut(path, base, NAME_LEN - at), buf, at);
    sum += writeOctal(buf, SIZE, BIG_LEN, paxLen);
    sum += writeOctal(buf, MTIME, BIG_LEN, mtimeField);
    writeChecksum(buf, 0, sum);

    let o = BLOCK;
    if (binary) {
      o = recordHead(buf, o, 'hdrcharset', 10, 6);
      o = writeAsciiEnd(buf, o, 'BINARY');
      buf[o++] = NL;
    }
    if (paxPath) {
      o = recordHead(buf, o, 'path', 4, nameLen);
      o += path.copy(buf, o);
      if (isDir) buf[o++] = SLASH;
      buf[o++] = NL;
    }
    if (paxLink) {
      o = recordHead(buf, o, 'linkpath', 8, link!.length);
      o += link!.copy(buf, o);
      buf[o++] = NL;
    }
    if (paxMtime) {
      o = recordHead(buf, o, 'mtime', 5, mtimeLen);
      if (mNeg) buf[o++] = 0x2d; // '-'
      o = writeDecimal(buf, o, mSec, mSecDigits);
      if (fracDigits > 0) {
        buf[o++] = 0x2e; // '.'
        o = writeDecimal(buf, o, mFrac, fracDigits); // zero-padded on the left
      }
      buf[o++] = NL;
    }
    if (paxUid) o = numberRecord(buf, o, 'uid', uid);
    if (paxGid) o = numberRecord(buf, o, 'gid', gid);
    if (paxUname) o = stringRecord(buf, o, 'uname', 5, uname, unameLen);
    if (paxGname) o = stringRecord(buf, o, 'gname', 5, gname, gnameLen);
    if (paxSize) o = numberRecord(buf, o, 'size', size);
    if (extra !== undefined) {
      for (let i = 0; i < extra.length; i++) {
        const rec = extra[i]!;
        o = stringRecord(buf, o, rec[0], Buffer.byteLength(rec[0]), rec[1], Buffer.byteLength(rec[1]));
      }
    }
    if (o !== BLOCK + paxLen) throw new Error(`tar header: internal error, pax records ${o - BLOCK} != ${paxLen} bytes`);
  }

  // The ustar header.
  const h = paxBlocks;
  let sum = 0;
  if (split === 0) {
    sum += copySum(path, 0, path.length, buf, h + NAME);
  } else if (split > 0) {
    sum += copySum(path, 0, split, buf, h + PREFIX);
    sum += copySum(path, split + 1, path.length, buf, h + NAME);
  } else {
    // Only for readers that ignore pax; the path record is the truth.
    sum += copySum(path, 0, utf8Cut(path, 0, NAME_LEN), buf, h + NAME);
  }
  if (isDir && split >= 0) {
    buf[h + NAME + (split === 0 ? path.length : path.length - split - 1)] = SLASH;
    sum += SLASH;
  }
  sum += writeOctal(buf, h + MODE, ID_LEN, m.mode & 0o7777);
  sum += writeOctal(buf, h + UID, ID_LEN, paxUid ? OCTAL7_MAX : uid);
  sum += writeOctal(buf, h + GID, ID_LEN, paxGid ? OCTAL7_MAX : gid);
  sum += writeOctal(buf, h + SIZE, BIG_LEN, paxSize ? 0 : size);
  sum += writeOctal(buf, h + MTIME, BIG_LEN, mtimeField);
  buf[h + TYPEFLAG] = flag;
  sum += flag;
  if (link !== undefined) sum += copySum(link, 0, paxLink ? utf8Cut(link, 0, LINK_LEN) : link.length, buf, h + LINKNAME);
  sum += writeMagic(buf, h);
  if (!paxUname) sum += writeAscii(buf, h + UNAME, uname);
  if (!paxGname) sum += writeAscii(buf, h + GNAME, gname);
  sum += writeOctal(buf, h + DEVMAJOR, ID_LEN, major);
  sum += writeOctal(buf, h + DEVMINOR, ID_LEN, minor);
  writeChecksum(buf, h, sum);
  return buf;
}

/**
 * Where to split a name too long for `name` into prefix '/' name: the last
 * '/' that leaves a prefix of at most 155 bytes (GNU tar's choice, so equal
 * names give equal headers), provided the rest is 1..100 bytes; else -1. Only
 * bytes of `path` are examined: a directory's added '/' is never the split.
 */
function splitPoint(path: Buffer, nameLen: number): number {
  for (let i = Math.min(PREFIX_LEN, nameLen - 2); i > 0; i--) {
    if (path[i] === SLASH) return nameLen - i - 1 <= NAME_LEN ? i : -1;
  }
  return -1;
}

/**
 * End of at most `max` bytes from `start`, moved back off UTF-8 continuation
 * bytes (at most 3) so that a cut name stays readable.
 */
function utf8Cut(b: Buffer, start: number, max: number): number {
  let end = start + max;
  if (end >= b.length) return b.length;
  for (let k = 0; k < 3 && end > start && (b[end]! & 0xc0) === 0x80; k++) end--;
  return end;
}

/**
 * Copies src[from, to) to dst at `at` and returns the bytes' sum, for the
 * checksum. Header names are short: a loop beats Buffer.copy's native call.
 */
function copySum(src: Buffer, from: number, to: number, dst: Buffer, at: number): number {
  let sum = 0;
  for (let i = from; i < to; i++) {
    const c = src[i]!;
    dst[at++] = c;
    sum += c;
  }
  return sum;
}

/** Writes a string known to be ASCII, byte per UTF-16 unit; returns the bytes' sum. */
function writeAscii(buf: Buffer, off: number, s: string): number {
  let sum = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    buf[off + i] = c;
    sum += c;
  }
  return sum;
}

function writeAsciiEnd(buf: Buffer, off: number, s: string): number {
  writeAscii(buf, off, s);
  return off + s.length;
}

/** "ustar\0" and version "00"; returns the bytes' sum. */
function writeMagic(buf: Buffer, h: number): number {
  return writeAscii(buf, h + MAGIC, 'ustar\u000000');
}

/**
 * `width - 1` zero-padded octal digits and a NUL, as GNU tar writes them
 * (POSIX allows a space or NUL terminator); returns the bytes' sum.
 */
function writeOctal(buf: Buffer, off: number, width: number, value: number): number {
  let i = off + width - 2;
  let v = value;
  let sum = ZERO * (width - 1);
  // Beyond 31 bits (sizes over 2 GiB, mtimes after 2038) bit operations
  // would wrap, so peel off digits in floating point first.
  while (v > 0x7fffffff) {
    const d = v % 8;
    buf[i--] = ZERO + d;
    sum += d;
    v = Math.floor(v / 8);
  }
  for (; v !== 0; i--) {
    const d = v & 7;
    buf[i] = ZERO + d;
    sum += d;
    v >>>= 3;
  }
  for (; i >= off; i--) buf[i] = ZERO;
  buf[off + width - 1] = 0;
  return sum;
}

/** Six octal digits, NUL, space; `sum` is every other byte of the block. */
function writeChecksum(buf: Buffer, h: number, sum: number): void {
  writeOctal(buf, h + CHKSUM, 7, sum + 8 * 0x20); // the field counts as 8 spaces
  buf[h + CHKSUM + 7] = 0x20;
}

function decimalDigits(n: number): number {
  let d = 1;
  for (let p = 10; n >= p; p *= 10) d++;
  return d;
}

/** Writes `n` as exactly `digits` decimal digits (zero-padded); returns the end. */
function writeDecimal(buf: Buffer, off: number, n: number, digits: number): number {
  let i = off + digits - 1;
  for (; n > 0x7fffffff; i--) {
    const q = Math.floor(n / 10);
    buf[i] = ZERO + (n - q * 10);
    n = q;
  }
  for (; i >= off; i--) {
    const q = (n / 10) | 0; // 31-bit integer division, cheaper than Math.floor
    buf[i] = ZERO + (n - q * 10);
    n = q;
  }
  return off + digits;
}

/**
 * Length of the record `"%d %s=%s\n"`: the decimal prefix counts itself, so
 * one more digit is needed when adding the prefix crosses a power of ten
 * (a 98-byte rest makes a 101-byte record, not 100).
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
  o = keyLen === key.length ? writeAsciiEnd(buf, o, key) : o + buf.write(key, o, 'utf8');
  buf[o++] = 0x3d; // '='
  return o;
}

function numberRecord(buf: Buffer, off: number, key: string, n: number): number {
  const digits = decimalDigits(n);
  let o = recordHead(buf, off, key, key.length, digits);
  o = writeDecimal(buf, o, n, digits);
  buf[o++] = NL;
  return o;
}

function stringRecord(buf: Buffer, off: number, key: string, keyLen: number, value: string, valueLen: number): number {
  let o = recordHead(buf, off, key, keyLen, valueLen);
  o += buf.write(value, o, 'utf8');
  buf[o++] = NL;
  return o;
}

function padding(n: number): number {
  const r = n % BLOCK;
  return r === 0 ? 0 : BLOCK - r;
}

function checkCount(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`tar header: ${what} ${n} is not a non-negative safe integer`);
}

/** ustar names are NUL-terminated byte strings: a NUL inside cannot be stored. */
function checkBytes(b: Buffer | undefined, what: string): asserts b is Buffer {
  if (!Buffer.isBuffer(b)) throw new TypeError(`tar header: ${what} must be a Buffer`);
  if (b.length === 0) throw new RangeError(`tar header: empty ${what}`);
  if (b.indexOf(0) !== -1) throw new RangeError(`tar header: ${what} contains a NUL byte`);
}

/** UTF-8 length of a string value, refusing what cannot be stored exactly. */
function storableLength(s: string, what: string): number {
  if (typeof s !== 'string') throw new TypeError(`tar header: ${what} must be a string`);
  // Short ASCII strings (the usual owner names) are measured by this loop,
  // cheaper than Buffer.byteLength's native call.
  let ascii = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0 || c > 0x7f) { ascii = false; break; }
  }
  if (ascii) return s.length;
  if (s.indexOf('\0') !== -1 || LONE_SURROGATE.test(s)) {
    throw new RangeError(`tar header: ${what} ${JSON.stringify(s)} cannot be stored exactly`);
  }
  return Buffer.byteLength(s);
}

/** A pax keyword: no '=' (it ends the keyword) and not one the encoder writes. */
function keywordLength(k: string): number {
  if (typeof k !== 'string' || k.length === 0 || k.indexOf('=') !== -1 || k.indexOf('\n') !== -1) {
    throw new RangeError(`tar header: bad pax keyword ${JSON.stringify(k)}`);
  }
  if (OWN_KEYWORDS.has(k)) throw new RangeError(`tar header: pax keyword ${k} is set by the encoder`);
  return storableLength(k, 'pax keyword');
}
