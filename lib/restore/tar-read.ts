/**
 * A tar reader for cairn-restore: ustar, pax (local and global headers),
 * GNU (long names and links, base-256 numbers) and the old formats, as GNU
 * tar, bsdtar and cairn-pack write them. Our own rather than tar-stream's
 * extractor (which the tests use as an independent reader): names stay raw
 * bytes whatever their encoding (tar-stream decodes them as UTF-8, lossily),
 * a pax path with a NUL in it, a negative or absurd size and a bad checksum
 * are told apart and refused, and times keep their nanoseconds.
 */

const BLOCK = 512;

export type MemberType = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo' | 'other';

export interface Member {
  /** Raw bytes of the name as the archive gives it (not yet checked: see confine.ts). */
  name: Buffer;
  type: MemberType;
  /** The typeflag, for messages about the ones we do not restore. */
  flag: string;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  /** Seconds and nanoseconds since the epoch (seconds may be negative). */
  mtimeSec: number;
  mtimeNsec: number;
  linkname: Buffer;
  devmajor: number;
  devminor: number;
  /** Pax records of this member (after global ones), values as raw bytes. */
  pax: Map<string, Buffer>;
  /** Why this member cannot be restored as it is (read on, the reader skips its content). */
  bad?: string;
  /**
   * A GNU sparse file: its data segments (the content holds them one after
   * the other) and its real size (`size` is then the real size too).
   * Format 1.0 keeps the map at the start of the content: `mapInData`, read
   * by sparseMap().
   */
  sparse?: { map: { offset: number; size: number }[]; mapInData: boolean };
}

/** The input is not a tar at all, or is broken beyond a member's own fault: the archive stops there. */
export class TarError extends Error {
  constructor(
    message: string,
    /** The member it happened in, when its name was read. */
    readonly member?: Buffer,
  ) {
    super(message);
  }
}

/** Bytes in, a chunk at a time: what the reader pulls from. */
export interface ByteSource {
  /** The next chunk, or undefined at the end. */
  next(): Promise<Buffer | undefined>;
}

function isZero(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

function cstr(b: Buffer, start: number, len: number): Buffer {
  const end = b.indexOf(0, start);
  return b.subarray(start, end < 0 || end > start + len ? start + len : end);
}

/**
 * A numeric field: octal digits (space or NUL ended), or GNU base-256 (high
 * bit of the first byte set; 0xff first byte: negative). NaN when neither.
 */
function num(b: Buffer, start: number, len: number): number {
  const first = b[start]!;
  if (first & 0x80) {
    const negative = first === 0xff;
    let v = negative ? -1 : first & 0x7f;
    for (let i = start + 1; i < start + len; i++) {
      v = v * 256 + (negative ? b[i]! - 255 : b[i]!);
      if (!Number.isSafeInteger(v)) return negative ? -Infinity : Infinity;
    }
    return v;
  }
  let v = 0;
  let seen = false;
  for (let i = start; i < start + len; i++) {
    const c = b[i]!;
    if (c === 0 || (c === 0x20 && seen)) break;
    if (c === 0x20) continue;
    if (c < 0x30 || c > 0x37) return NaN;
    v = v * 8 + (c - 0x30);
    seen = true;
  }
  return seen ? v : 0;
}

/**
 * The header's checksum: the sum of its bytes, the checksum field counted
 * as spaces; as unsigned bytes, or as signed ones (old writers). Summed
 * four bytes at a time where the block is aligned (two 512-byte headers a
 * member: the byte loop was 7% of a restore).
 */
let words: Uint32Array<ArrayBufferLike> = new Uint32Array(0);

function checksumOk(b: Buffer): boolean {
  const want = num(b, 148, 8);
  let sum = 0;
  if (b.byteOffset % 4 === 0) {
    // One view per chunk read, not one per header.
    if (words.buffer !== b.buffer) words = new Uint32Array(b.buffer, 0, b.buffer.byteLength >>> 2);
    let lanes = 0;
    // Two 16-bit lanes, each at most 128 * 2 * 255: no carry between them.
    for (let i = b.byteOffset >>> 2, end = i + BLOCK / 4; i < end; i++) lanes += (words[i]! & 0x00ff00ff) + ((words[i]! >>> 8) & 0x00ff00ff);
    sum = (lanes & 0xffff) + (lanes >>> 16);
  } else for (let i = 0; i < BLOCK; i++) sum += b[i]!;
  let field = 0;
  for (let i = 148; i < 156; i++) field += b[i]!;
  const unsigned = sum - field + 8 * 0x20;
  if (want === unsigned) return true;
  let high = 0;
  for (let i = 0; i < BLOCK; i++) if ((i < 148 || i >= 156) && b[i]! > 127) high++;
  return want === unsigned - 256 * high;
}

/** "len key=value\n" records; values are raw bytes. Repeated GNU sparse 0.0 pairs are kept in order, under numbered keys. */
function parsePax(data: Buffer): Map<string, Buffer> | string {
  const out = new Map<string, Buffer>();
  let pairs = 0;
  let at = 0;
  while (at < data.length) {
    if (data[at] === 0) break; // padding some writers leave
    const sp = data.indexOf(0x20, at);
    if (sp < 0) return 'a pax record without its length';
    const len = Number(data.subarray(at, sp).toString('latin1'));
    if (!Number.isSafeInteger(len) || len <= sp - at || at + len > data.length || data[at + len - 1] !== 0x0a) return 'a pax record of a wrong length';
    const rec = data.subarray(sp + 1, at + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq < 0) return 'a pax record without "="';
    let key = rec.subarray(0, eq).toString('utf8');
    if (key === 'GNU.sparse.offset') key = `GNU.sparse.offset.${pairs}`;
    else if (key === 'GNU.sparse.numbytes') key = `GNU.sparse.numbytes.${pairs++}`;
    out.set(key, rec.subarray(eq + 1));
    at += len;
  }
  return out;
}

/** A pax time: decimal seconds with an optional fraction, maybe negative (POSIX: -1.5 is 1.5 s before the epoch). */
function paxTime(v: string): [number, number] | undefined {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(v);
  if (!m) return undefined;
  const whole = Number(m[2]);
  const frac = Number(((m[3] ?? '') + '000000000').slice(0, 9));
  if (!Number.isSafeInteger(whole)) return undefined;
  if (m[1] === '') return [whole, frac];
  return frac === 0 ? [-whole, 0] : [-whole - 1, 1_000_000_000 - frac];
}

const TYPES: Record<string, MemberType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'dir',
  '6': 'fifo',
  D: 'dir',
};

/** Names and link texts longer than this are refused (Linux PATH_MAX is 4096). */
const MAX_NAME = 1 << 16;

/**
 * Pulls members one at a time; after each, the caller reads its content
 * (content()) or skips it (skip()) before asking for the next.
 */
export class TarReader {
  private buf: Buffer = Buffer.alloc(0);
  private off = 0;
  private ended = false;
  private global = new Map<string, Buffer>();
  /** Content bytes of the current member not yet consumed (padding excluded). */
  private left = 0;
  private pad = 0;
  /** Bytes consumed so far (for messages). */
  position = 0;

  constructor(private readonly src: ByteSource) {}

  /** At least n bytes buffered, or fewer at the end of input. */
  private async fill(n: number): Promise<void> {
    while (this.buf.length - this.off < n && !this.ended) {
      const c = await this.src.next();
      if (c === undefined) {
        this.ended = true;
        break;
      }
      this.buf = this.off < this.buf.length ? Buffer.concat([this.buf.subarray(this.off), c]) : c;
      this.off = 0;
    }
  }

  private async block(): Promise<Buffer | undefined> {
    await this.fill(BLOCK);
    if (this.buf.length - this.off < BLOCK) {
      if (this.buf.length - this.off === 0) return undefined;
      throw new TarError(`truncated: ${this.buf.length - this.off} bytes at offset ${this.position} are not a whole 512-byte block`);
    }
    const b = this.buf.subarray(this.off, this.off + BLOCK);
    this.off += BLOCK;
    this.position += BLOCK;
    return b;
  }

  /** The content of a special member (pax, long name), read whole, bounded. */
  private async data(size: number, what: string): Promise<Buffer> {
    if (size > MAX_NAME + 4096) throw new TarError(`${what} of ${size} bytes at offset ${this.position}: too large to be real`);
    const total = size + ((BLOCK - (size % BLOCK)) % BLOCK);
    await this.fill(total);
    if (this.buf.length - this.off < total) throw new TarError(`truncated in ${what} at offset ${this.position}`);
    const d = Buffer.from(this.buf.subarray(this.off, this.off + size));
    this.off += total;
    this.position += total;
    return d;
  }

  /** The next member, or undefined at the end of the archive. */
  async next(): Promise<Member | undefined> {
    if (this.left > 0 || this.pad > 0) await this.skip();
    let longName: Buffer | undefined;
    let longLink: Buffer | undefined;
    let pax = new Map<string, Buffer>();
    let paxBad: string | undefined;
    for (;;) {
      const h = await this.block();
      if (h === undefined || isZero(h)) return undefined; // end (GNU tar accepts one zero block, or none, too)
      if (!checksumOk(h)) throw new TarError(`not a tar header at offset ${this.position - BLOCK} (checksum)`);
      const flag = String.fromCharCode(h[156]!);
      const size = num(h, 124, 12);
      // "ustar\0" (POSIX; then "00") or "ustar " (old GNU): only the first carries a prefix field.
      const ustar = h[257] === 0x75 && h[258] === 0x73 && h[259] === 0x74 && h[260] === 0x61 && h[261] === 0x72 && h[262] === 0;
      let name = cstr(h, 0, 100);
      if (ustar && h[345] !== 0) name = Buffer.concat([cstr(h, 345, 155), Buffer.from('/'), name]);
      const named = pax.get('path') ?? longName ?? name;
      if (Number.isNaN(size) || size < 0 || !Number.isSafeInteger(size)) {
        // Without a size the rest of the stream cannot be found: stop here.
        throw new TarError(`${size < 0 ? 'a negative' : 'an impossible'} size in its header (offset ${this.position - BLOCK}): the archive cannot be read past it`, named);
      }
      if (flag === 'x' || flag === 'g' || flag === 'X') {
        const parsed = parsePax(await this.data(size, 'a pax header'));
        if (typeof parsed === 'string') {
          paxBad = parsed;
          continue;
        }
        if (flag === 'g') {
          for (const [k, v] of parsed) this.global.set(k, v);
          // Global records apply to every member after them: a few are normal, thousands are an attack.
          if (this.global.size > 256) throw new TarError('more than 256 global pax records: not a real archive');
        } else pax = parsed;
        continue;
      }
      if (flag === 'L' || flag === 'K') {
        const d = await this.data(size, 'a GNU long name');
        const end = d.indexOf(0);
        const v = end < 0 ? d : d.subarray(0, end);
        if (flag === 'L') longName = v;
        else longLink = v;
        continue;
      }
      const all = this.global.size === 0 ? pax : new Map([...this.global, ...pax]);
      const m: Member = {
        name: longName ?? name,
        type: TYPES[flag] ?? 'other',
        flag,
        size,
        mode: num(h, 100, 8) & 0o7777,
        uid: num(h, 108, 8),
        gid: num(h, 116, 8),
        uname: cstr(h, 265, 32).toString('utf8'),
        gname: cstr(h, 297, 32).toString('utf8'),
        mtimeSec: num(h, 136, 12),
        mtimeNsec: 0,
        linkname: longLink ?? cstr(h, 157, 100),
        devmajor: num(h, 329, 8),
        devminor: num(h, 337, 8),
        pax: all,
      };
      if (paxBad !== undefined) m.bad = paxBad;
      this.applyPax(m, all);
      if (m.name.length > MAX_NAME || m.linkname.length > MAX_NAME) m.bad ??= 'a name too long to be real';
      if (!Number.isFinite(m.uid) || !Number.isFinite(m.gid) || m.uid < 0 || m.gid < 0) m.bad ??= 'an impossible owner';
      if (flag === 'S') {
        m.type = 'file';
        await this.oldSparse(h, m);
      } else if (all.has('GNU.sparse.major') || all.has('GNU.sparse.map') || all.has('GNU.sparse.offset.0') || all.has('GNU.sparse.size')) this.paxSparse(m, all);
      if (m.type === 'other') m.bad ??= `a member of type ${JSON.stringify(flag)} (not supported)`;
      // Only files carry content: for the others, the size is skipped.
      this.left = m.sparse ? this.stored : m.size;
      this.pad = (BLOCK - (this.left % BLOCK)) % BLOCK;
      if (m.sparse) m.size = this.realSize;
      if (m.type === 'hardlink' || m.type === 'symlink' || m.type === 'dir' || m.type === 'char' || m.type === 'block' || m.type === 'fifo') {
        if (m.type !== 'dir') m.size = 0;
      }
      return m;
    }
  }

  /** Sparse members: the bytes stored in the archive, and the file's real size. */
  private stored = 0;
  private realSize = 0;

  private num(v: Buffer | undefined): number {
    const t = v?.toString('latin1') ?? '';
    return /^\d+$/.test(t) ? Number(t) : NaN;
  }

  /** The old GNU format (typeflag S): a map in the header, continued in extension blocks. */
  private async oldSparse(h: Buffer, m: Member): Promise<void> {
    const map: { offset: number; size: number }[] = [];
    const entries = async (b: Buffer, at: number, n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        const o = at + i * 24;
        if (b[o] === 0) return;
        map.push({ offset: num(b, o, 12), size: num(b, o + 12, 12) });
      }
    };
    await entries(h, 386, 4);
    let extended = h[482] !== 0;
    while (extended) {
      const b = await this.block();
      if (b === undefined) throw new TarError('truncated in a sparse map', m.name);
      await entries(b, 0, 21);
      extended = b[504] !== 0;
    }
    this.setSparse(m, map, num(h, 483, 12), false);
  }

  /** The pax formats 0.0 (pairs), 0.1 (a map record) and 1.0 (the map in the data). */
  private paxSparse(m: Member, pax: Map<string, Buffer>): void {
    const real = this.num(pax.get('GNU.sparse.realsize') ?? pax.get('GNU.sparse.size'));
    if (pax.get('GNU.sparse.major')?.toString('latin1') === '1') {
      this.setSparse(m, [], real, true);
      return;
    }
    const map: { offset: number; size: number }[] = [];
    const text = pax.get('GNU.sparse.map')?.toString('latin1');
    if (text !== undefined) {
      const nums = text === '' ? [] : text.split(',').map(Number);
      for (let i = 0; i + 1 < nums.length; i += 2) map.push({ offset: nums[i]!, size: nums[i + 1]! });
    } else {
      for (let i = 0; pax.has(`GNU.sparse.offset.${i}`); i++) map.push({ offset: this.num(pax.get(`GNU.sparse.offset.${i}`)), size: this.num(pax.get(`GNU.sparse.numbytes.${i}`)) });
    }
    this.setSparse(m, map, real, false);
  }

  private setSparse(m: Member, map: { offset: number; size: number }[], real: number, mapInData: boolean, stored = m.size): void {
    this.stored = stored;
    this.realSize = real;
    let end = 0;
    let data = 0;
    for (const s of map) {
      if (!Number.isSafeInteger(s.offset) || !Number.isSafeInteger(s.size) || s.offset < end || s.size < 0) {
        m.bad ??= 'a sparse map out of order or out of range';
        break;
      }
      end = s.offset + s.size;
      data += s.size;
    }
    if (!Number.isSafeInteger(real) || end > real) m.bad ??= 'a sparse file whose map passes its real size';
    if (!mapInData && data !== stored) m.bad ??= `a sparse map of ${data} bytes for ${stored} stored`;
    m.sparse = { map, mapInData };
  }

  /**
   * Format 1.0: the map at the start of the content (decimal numbers, one a
   * line: the count, then offset and size pairs), padded to a block.
   */
  async sparseMap(m: Member): Promise<void> {
    if (!m.sparse?.mapInData) return;
    const lines: number[] = [];
    let used = 0;
    let want = 1;
    let text = '';
    while (lines.length < want) {
      if (this.left === 0) throw new TarError('truncated in a sparse map', m.name);
      await this.fill(1);
      if (this.off >= this.buf.length) throw new TarError('truncated in a sparse map', m.name);
      const c = this.buf[this.off]!;
      this.off++;
      this.position++;
      this.left--;
      used++;
      if (c === 0x0a) {
        const n = Number(text);
        if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) throw new TarError('a bad sparse map', m.name);
        lines.push(n);
        if (lines.length === 1) want = 1 + 2 * n;
        text = '';
      } else text += String.fromCharCode(c);
      if (used > 1 << 20) throw new TarError('a sparse map too long to be real', m.name);
    }
    // The map is padded to a whole block.
    const pad = (BLOCK - (used % BLOCK)) % BLOCK;
    for (let i = 0; i < pad; i++) {
      await this.fill(1);
      this.off++;
      this.position++;
      this.left--;
    }
    const map: { offset: number; size: number }[] = [];
    for (let i = 1; i + 1 < lines.length; i += 2) map.push({ offset: lines[i]!, size: lines[i + 1]! });
    this.setSparse(m, map, m.size, false, this.left);
  }

  private applyPax(m: Member, pax: Map<string, Buffer>): void {
    // GNU sparse 0.1 and 1.0 keep the real name here (the header holds GNUSparseFile.PID/NAME).
    const sparseName = pax.get('GNU.sparse.name');
    if (sparseName !== undefined) m.name = sparseName;
    const path = pax.get('path');
    if (path !== undefined && sparseName === undefined) {
      if (path.includes(0)) m.bad ??= 'a NUL inside its pax path';
      m.name = path;
    }
    const link = pax.get('linkpath');
    if (link !== undefined) {
      if (link.includes(0)) m.bad ??= 'a NUL inside its pax link path';
      m.linkname = link;
    }
    const size = pax.get('size');
    if (size !== undefined) {
      const s = Number(size.toString('latin1'));
      if (!/^\d+$/.test(size.toString('latin1')) || !Number.isSafeInteger(s)) throw new TarError(`an impossible pax size (${JSON.stringify(size.toString('latin1').slice(0, 40))}): the archive cannot be read past it`, m.name);
      m.size = s;
    }
    const mtime = pax.get('mtime');
    if (mtime !== undefined) {
      const t = paxTime(mtime.toString('latin1'));
      if (t) [m.mtimeSec, m.mtimeNsec] = t;
    }
    for (const k of ['uid', 'gid'] as const) {
      const v = pax.get(k);
      if (v !== undefined) m[k] = /^\d+$/.test(v.toString('latin1')) ? Number(v.toString('latin1')) : NaN;
    }
    const un = pax.get('uname');
    if (un !== undefined) m.uname = un.toString('utf8');
    const gn = pax.get('gname');
    if (gn !== undefined) m.gname = gn.toString('utf8');
  }

  /** Hands the current member's content to `fn` in chunks (the chunks are only valid during the call). */
  async content(fn: (chunk: Buffer) => void): Promise<void> {
    while (this.left > 0) {
      if (this.off >= this.buf.length) {
        await this.fill(1);
        if (this.off >= this.buf.length) throw new TarError(`truncated: ${this.left} bytes of its content are missing`);
      }
      const n = Math.min(this.left, this.buf.length - this.off);
      fn(this.buf.subarray(this.off, this.off + n));
      this.off += n;
      this.position += n;
      this.left -= n;
    }
    await this.skipPad();
  }

  /**
   * The current member's content, when all of it and its padding are
   * buffered (small files mostly are): a view of the reader's chunk, no
   * copy, which stays as it is (chunks are never reused). Undefined
   * otherwise, nothing consumed: content() reads it.
   */
  contentView(): Buffer | undefined {
    const n = this.left + this.pad;
    if (this.buf.length - this.off < n) return undefined;
    const v = this.buf.subarray(this.off, this.off + this.left);
    this.off += n;
    this.position += n;
    this.left = 0;
    this.pad = 0;
    return v;
  }

  /** Skips what is left of the current member. */
  async skip(): Promise<void> {
    await this.content(() => {});
  }

  private async skipPad(): Promise<void> {
    while (this.pad > 0) {
      await this.fill(1);
      if (this.off >= this.buf.length) return; // a missing final padding is no worse than a missing end
      const n = Math.min(this.pad, this.buf.length - this.off);
      this.off += n;
      this.position += n;
      this.pad -= n;
    }
  }
}
