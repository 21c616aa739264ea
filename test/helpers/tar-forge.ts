/*
 * A tar writer for hostile archives, for the restore tests: it shares no
 * code with lib/ and writes exactly what it is told, including what no
 * honest tar writes (absolute and `..` names, links out of the tree, a NUL
 * in a pax path, negative and absurd sizes, a size larger than the data).
 *
 * Headers are ustar blocks (POSIX magic "ustar\0" "00", or the GNU magic
 * "ustar  \0" when `gnu` is set), a name that does not fit the 100-byte
 * field goes into a pax `path` record (or a GNU ././@LongLink member when
 * `gnu` is set), and the archive ends with two zero blocks unless told not to.
 */

const BLOCK = 512;

export type ForgeType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'fifo' | 'char' | 'block';

const TYPEFLAG: Record<ForgeType, string> = { file: '0', dir: '5', symlink: '2', hardlink: '1', fifo: '6', char: '3', block: '4' };

export interface ForgeMember {
  /** The member name, raw (a string is taken as UTF-8). */
  name: string | Buffer;
  type?: ForgeType;
  /** Content (files); the header's size is its length unless `size` says otherwise. */
  data?: string | Buffer;
  /** Symlink target or hard-link target. */
  linkname?: string;
  mode?: number;
  /** Seconds since the epoch. */
  mtime?: number;
  uid?: number;
  gid?: number;
  major?: number;
  minor?: number;
  /**
   * The size in the header, when it is to lie: a bigint is written in GNU
   * base-256 (negative ones too), a number in octal.
   */
  size?: number | bigint;
  /** pax records written in an extended header before this member, as given (values raw). */
  pax?: [string, string | Buffer][];
  /** GNU magic, and a ././@LongLink member for a long name. */
  gnu?: boolean;
}

function octal(buf: Buffer, off: number, len: number, value: number): void {
  const s = value.toString(8).padStart(len - 1, '0');
  if (s.length > len - 1) throw new Error(`tar-forge: ${value} does not fit ${len - 1} octal digits`);
  buf.write(s, off, 'latin1');
  buf[off + len - 1] = 0;
}

/** GNU base-256: the top bit of the first byte set, two's complement big-endian over the field (a negative value starts with 0xff). */
function base256(buf: Buffer, off: number, len: number, value: bigint): void {
  const bits = BigInt(len * 8);
  let v = value < 0n ? (1n << bits) + value : value;
  for (let i = len - 1; i >= 0; i--) {
    buf[off + i] = Number(v & 0xffn);
    v >>= 8n;
  }
  buf[off] = buf[off]! | 0x80;
}

function raw(s: string | Buffer): Buffer {
  return typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
}

function pad(data: Buffer): Buffer {
  const rest = data.length % BLOCK;
  return rest === 0 ? data : Buffer.concat([data, Buffer.alloc(BLOCK - rest)]);
}

function header(name: Buffer, typeflag: string, size: number | bigint, m: Partial<ForgeMember>, linkname?: Buffer): Buffer {
  const h = Buffer.alloc(BLOCK);
  name.copy(h, 0, 0, Math.min(100, name.length));
  octal(h, 100, 8, m.mode ?? (typeflag === '5' ? 0o755 : 0o644));
  octal(h, 108, 8, m.uid ?? 0);
  octal(h, 116, 8, m.gid ?? 0);
  if (typeof size === 'bigint') base256(h, 124, 12, size);
  else octal(h, 124, 12, size);
  octal(h, 136, 12, m.mtime ?? 1_600_000_000);
  h.write(typeflag, 156, 'latin1');
  if (linkname !== undefined) linkname.copy(h, 157, 0, Math.min(100, linkname.length));
  if (m.gnu) h.write('ustar  \0', 257, 'latin1');
  else h.write('ustar\x0000', 257, 'latin1');
  h.write('root', 265, 'latin1');
  h.write('root', 297, 'latin1');
  octal(h, 329, 8, m.major ?? 0);
  octal(h, 337, 8, m.minor ?? 0);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0'), 148, 'latin1');
  h[154] = 0;
  h[155] = 0x20;
  return h;
}

/** One pax record: "LEN key=value\n", LEN counting itself. */
function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`, 'latin1'), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len), 'latin1'), body]);
}

/** The bytes of one member (with its pax or LongLink header when needed), data padded. */
export function forgeMember(m: ForgeMember): Buffer {
  const type = m.type ?? 'file';
  const name = raw(m.name);
  const link = m.linkname === undefined ? undefined : raw(m.linkname);
  const data = m.data === undefined ? Buffer.alloc(0) : raw(m.data);
  const out: Buffer[] = [];
  const pax: [string, Buffer][] = (m.pax ?? []).map(([k, v]) => [k, raw(v)]);
  if (name.length > 100 && m.gnu) {
    out.push(header(Buffer.from('././@LongLink'), 'L', name.length + 1, {}), pad(Buffer.concat([name, Buffer.alloc(1)])));
  } else if (name.length > 100) pax.unshift(['path', name]);
  if (link !== undefined && link.length > 100) {
    if (m.gnu) out.push(header(Buffer.from('././@LongLink'), 'K', link.length + 1, {}), pad(Buffer.concat([link, Buffer.alloc(1)])));
    else pax.push(['linkpath', link]);
  }
  if (pax.length > 0) {
    const body = Buffer.concat(pax.map(([k, v]) => paxRecord(k, v)));
    out.push(header(Buffer.from(`PaxHeaders/${name.subarray(0, 80).toString('latin1').replace(/\0/g, '_')}`, 'latin1'), 'x', body.length, {}), pad(body));
  }
  out.push(header(name, TYPEFLAG[type], m.size ?? data.length, m, link), pad(data));
  return Buffer.concat(out);
}

/** A whole archive: the members, then two zero blocks (unless `end` is false). */
export function forgeTar(members: ForgeMember[], opts: { end?: boolean } = {}): Buffer {
  return Buffer.concat([...members.map(forgeMember), Buffer.alloc(opts.end === false ? 0 : 2 * BLOCK)]);
}
