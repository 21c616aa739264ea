import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BIN, isRoot, records, tempDir, testNeeding } from '../helpers/run';
import { bytesOf, hashOf, prng, q } from '../helpers/sync';
import { makeSocket } from '../helpers/tree';

/** Checked against other tools: skipped, saying which, where one is missing. */
const test = testNeeding('bsdtar');

/*
 * cairn-pack end to end: the real scan | plan --archive | pack, read back by
 * two independent tar implementations (GNU tar 1.34 and bsdtar/libarchive
 * 3.6), every object compared with its source byte for byte and attribute
 * for attribute.
 *
 * Paths are handled as raw bytes throughout: a relative path is kept as a
 * latin1 string (one char per byte), so a name that is not UTF-8 compares
 * exactly.
 */

/** Dates print in UTC; bsdtar prints UTF-8 names as they are and escapes the rest. */
const ENV = { ...process.env, TZ: 'UTC', LC_ALL: 'C.UTF-8', PATH: `${BIN}:${process.env.PATH}` };
const NS = 1_000_000_000n;

interface Out {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

function shb(script: string, cwd?: string): Out {
  const r = spawnSync('bash', ['-c', script], { cwd, maxBuffer: 1 << 30, env: ENV });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString('utf8') };
}

/** Runs a script that must exit 0 with nothing on stderr; its stdout. */
function ok(script: string, cwd?: string): Buffer {
  const r = shb(script, cwd);
  assert.equal(r.code, 0, `${script}\nexit ${r.code}: ${r.stderr}`);
  assert.equal(r.stderr, '', `stderr of: ${script}`);
  return r.stdout;
}

const raw = (b: Buffer): string => b.toString('latin1');
const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');
/** A UTF-8 text as a raw path. */
const u = (s: string): string => raw(Buffer.from(s, 'utf8'));
/** A raw path for messages. */
const show = (p: string): string => JSON.stringify(bytes(p).toString('utf8'));
const abs = (root: string, rel: string): Buffer => Buffer.concat([Buffer.from(`${root}/`), bytes(rel)]);
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
/** Raw bytes as one bash word ($'...' with \\xHH escapes). */
function bq(b: Buffer): string {
  let s = "$'";
  for (const c of b) s += c >= 0x20 && c < 0x7f && c !== 0x27 && c !== 0x5c ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  return `${s}'`;
}

interface Obj {
  type: 'file' | 'dir' | 'symlink' | 'fifo' | 'char' | 'block' | 'socket';
  mode: number;
  uid: number;
  gid: number;
  mtimeNs: bigint;
  size: number;
  sha?: string;
  /** Raw symlink target. */
  target?: string;
  rdev?: number;
  ino: bigint;
  nlink: number;
}

/** Every object under root, keyed by raw relative path, in canonical order (depth first, siblings by bytes). */
function walk(root: string): Map<string, Obj> {
  const out = new Map<string, Obj>();
  const visit = (rel: string | null) => {
    const names = fs.readdirSync(rel === null ? root : abs(root, rel), { encoding: 'buffer' }).sort(Buffer.compare);
    for (const n of names) {
      const r = rel === null ? raw(n) : `${rel}/${raw(n)}`;
      const p = abs(root, r);
      const st = fs.lstatSync(p, { bigint: true });
      const type = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : st.isFIFO() ? 'fifo' : st.isCharacterDevice() ? 'char' : st.isBlockDevice() ? 'block' : 'socket';
      const o: Obj = { type, mode: Number(st.mode & 0o7777n), uid: Number(st.uid), gid: Number(st.gid), mtimeNs: st.mtimeNs, size: Number(st.size), ino: st.ino, nlink: Number(st.nlink) };
      if (type === 'file') o.sha = sha(fs.readFileSync(p));
      if (type === 'symlink') o.target = raw(fs.readlinkSync(p, { encoding: 'buffer' }));
      if (type === 'char' || type === 'block') o.rdev = Number(st.rdev);
      out.set(r, o);
      if (type === 'dir') visit(r);
    }
  };
  visit(null);
  return out;
}

/** For each path of a hard-link group (non-dirs with nlink > 1): every path of its group. */
function linkGroups(m: Map<string, Obj>): Map<string, string> {
  const byIno = new Map<bigint, string[]>();
  for (const [p, o] of m) if (o.type !== 'dir' && o.nlink > 1) byIno.set(o.ino, [...(byIno.get(o.ino) ?? []), p]);
  const out = new Map<string, string>();
  for (const ps of byIno.values()) for (const p of ps) out.set(p, ps.map(show).join(' '));
  return out;
}

interface CompareOpts {
  /** The mtime a reader restores for a source mtime (default: exact). */
  mtime?: (ns: bigint) => bigint;
  owners?: boolean;
  /** Compare directory mtimes (default true). */
  dirMtimes?: boolean;
}

/** What differs between the source objects and the extracted ones, one line each; [] when equal. */
function differences(want: Map<string, Obj>, got: Map<string, Obj>, o: CompareOpts = {}): string[] {
  const mtime = o.mtime ?? ((ns: bigint) => ns);
  const owners = o.owners ?? isRoot;
  const d: string[] = [];
  for (const [p, w] of want) {
    const g = got.get(p);
    if (g === undefined) {
      d.push(`${show(p)}: missing`);
      continue;
    }
    const fields: [string, unknown, unknown][] = [
      ['type', w.type, g.type],
      ['mode', w.mode.toString(8), g.mode.toString(8)],
      ['mtime', w.type === 'dir' && o.dirMtimes === false ? undefined : mtime(w.mtimeNs), g.type === 'dir' && o.dirMtimes === false ? undefined : g.mtimeNs],
      ['size', w.type === 'file' ? w.size : undefined, g.type === 'file' ? g.size : undefined],
      ['content', w.sha, g.sha],
      ['target', w.target, g.target],
      ['rdev', w.rdev, g.rdev],
    ];
    if (owners) fields.push(['uid', w.uid, g.uid], ['gid', w.gid, g.gid]);
    for (const [f, a, b] of fields) if (a !== b) d.push(`${show(p)}: ${f} ${String(b)}, source ${String(a)}`);
  }
  for (const p of got.keys()) if (!want.has(p)) d.push(`${show(p)}: not in the source`);
  const wl = linkGroups(want);
  const gl = linkGroups(got);
  for (const p of new Set([...wl.keys(), ...gl.keys()])) if (wl.get(p) !== gl.get(p)) d.push(`${show(p)}: hard links ${gl.get(p) ?? 'none'}, source ${wl.get(p) ?? 'none'}`);
  return d;
}

/** A map without some keys. */
function without(m: Map<string, Obj>, drop: (p: string) => boolean): Map<string, Obj> {
  return new Map([...m].filter(([p]) => !drop(p)));
}

const RAW_NAME = Buffer.from([0x63, 0x61, 0x66, 0xe9]); // "caf" + Latin-1 é
/** 124 bytes, no slash, not UTF-8: needs a pax path record with hdrcharset=BINARY. */
const RAW_LONG = Buffer.concat([Buffer.from('raw-'), Buffer.alloc(120, 0xe9)]);
const LONG_TARGET = `${'t'.repeat(60)}/`.repeat(5) + 'end'; // 308 bytes
const DEEP = `${'d'.repeat(200)}/${'e'.repeat(200)}`;
const DEEP_FILE = `${DEEP}/${'f'.repeat(120)}`; // 522 bytes in all
/** Nanoseconds since the epoch of an RFC 3339 UTC time. */
function nsOf(iso: string): bigint {
  const m = /^(.*?)(?:\.(\d+))?Z$/.exec(iso)!;
  return BigInt(Date.parse(`${m[1]}Z`)) * 1_000_000n + BigInt((m[2] ?? '0').padEnd(9, '0'));
}
const T2040 = '2040-02-29T12:34:56.987654321Z';
const T1965 = '1965-06-07T08:09:10.5Z';

/**
 * Every object tar can store: files (empty, setuid, private, huge ids), dirs
 * (empty, read-only, sticky), symlinks (long target, odd owner), a fifo, a
 * hard-link trio, devices (as root); long, deep, unicode, non-UTF-8 names;
 * exact nanosecond times, 2040, 1965 with a fraction, one second before 1970.
 */
function buildEveryType(src: string): void {
  const p = (rel: string) => abs(src, rel);
  const file = (rel: string, data: string | Buffer, mode = 0o644) => {
    fs.writeFileSync(p(rel), data);
    fs.chmodSync(p(rel), mode);
  };
  fs.mkdirSync(src);
  file('a.txt', 'hello\n');
  file('empty', '');
  file('exec', '#!/bin/sh\necho hi\n', 0o4755);
  file('private', 'secret\n', 0o600);
  file(u('sp ace=eq\\back slash'), 'odd name\n');
  file('L'.repeat(220), 'long name\n');
  fs.mkdirSync(p('emptydir'));
  fs.mkdirSync(p('sticky'));
  fs.mkdirSync(p(u('ünï')));
  file(u('ünï/ünïcödé 😀.txt'), 'unicode\n');
  file(u(`ünï/${'é'.repeat(60)}.txt`), 'long unicode\n');
  fs.mkdirSync(p(DEEP), { recursive: true });
  file(DEEP_FILE, 'deep\n');
  file(raw(RAW_NAME), 'latin1\n');
  fs.mkdirSync(p(raw(RAW_LONG)));
  file(`${raw(RAW_LONG)}/in`, 'in a raw dir\n');
  fs.symlinkSync(LONG_TARGET, p('link-long'));
  fs.symlinkSync('a.txt', p('link-short'));
  ok(`mkfifo ${q(src)}/fifo`);
  fs.mkdirSync(p('links'));
  file('links/h1', 'linked content\n');
  fs.linkSync(p('links/h1'), p('links/h2'));
  fs.linkSync(p('links/h1'), p('links/h3'));
  file('old', 'from 1965\n');
  file('future', 'from 2040\n');
  file('bigid', 'big ids\n');
  fs.mkdirSync(p('ro'));
  file('ro/inside', 'in a read-only dir\n');
  if (isRoot) {
    ok(`mknod ${q(src)}/chr c 1 3 && mknod ${q(src)}/blk b 7 200`);
    fs.chownSync(p('bigid'), 3_000_000_000, 3_000_000_001);
    fs.lchownSync(p('link-short'), 4321, 8765);
    fs.chownSync(p('private'), 1234, 5678);
  }
  fs.chmodSync(p('sticky'), 0o1777);
  // Times last (touch, to the nanosecond), children before their directories; each object its own time.
  const times = new Map([...walk(src).keys()].reverse().map((rel, i) => [rel, `2011-03-04T05:06:${String(i % 60).padStart(2, '0')}.${String(100_000_007 * (i + 1)).slice(-9)}Z`]));
  times.set('future', T2040);
  times.set('old', T1965);
  times.set('fifo', '1969-12-31T23:59:59Z');
  times.set('empty', '2015-05-05T05:05:05Z');
  ok([...times].map(([rel, t]) => `touch -h -d ${t} ${bq(abs(src, rel))}`).join('\n'));
  fs.chmodSync(p('ro'), 0o555);
}

/** scan --hash sha256 | plan --archive --format tar of src against catalog, quietly; the plan's file. */
function planVolume(base: string, src: string, catalog: string, flags = '--medium-size 1G', alg = 'sha256'): string {
  const plan = path.join(base, 'plan.ndjson');
  ok(`cairn-scan --hash ${alg} ${q(src)} > ${q(path.join(base, 'scan.ndjson'))} && cairn-plan --archive --catalog ${q(catalog)} --format tar ${flags} ${q(path.join(base, 'scan.ndjson'))} > ${q(plan)}`);
  return plan;
}

/** Raw path of a descriptor or entry record. */
function recPath(r: Record<string, unknown>): string {
  return typeof r.path_b64 === 'string' ? raw(Buffer.from(r.path_b64, 'base64')) : u(r.path as string);
}

const TYPE_CHAR: Record<string, string> = { file: '-', dir: 'd', symlink: 'l', fifo: 'p', char: 'c', block: 'b' };

/** `ls -l` style mode string; 'h' for a hard-link member. */
function modeString(type: string, mode: number): string {
  const rwx = (bits: number, special: boolean, ch: string) =>
    `${bits & 4 ? 'r' : '-'}${bits & 2 ? 'w' : '-'}${special ? (bits & 1 ? ch : ch.toUpperCase()) : bits & 1 ? 'x' : '-'}`;
  return (
    (type === 'hardlink' ? 'h' : TYPE_CHAR[type]!) +
    rwx((mode >> 6) & 7, (mode & 0o4000) !== 0, 's') +
    rwx((mode >> 3) & 7, (mode & 0o2000) !== 0, 's') +
    rwx(mode & 7, (mode & 0o1000) !== 0, 't')
  );
}

/** How bsdtar -t prints a raw name in a UTF-8 locale: printable characters as they are, `\` doubled, other bytes as \ooo. */
function bsdEscape(p: string): string {
  const b = bytes(p);
  let out = '';
  for (let i = 0; i < b.length; ) {
    const c = b[i]!;
    const len = c < 0x80 ? 1 : c >= 0xc2 && c < 0xe0 ? 2 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xf0 && c < 0xf5 ? 4 : 0;
    let ch: string | undefined;
    if (len > 0 && i + len <= b.length) {
      try {
        ch = new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(i, i + len));
      } catch {
        ch = undefined;
      }
    }
    if (ch !== undefined && ch.codePointAt(0)! >= 0x20 && ch !== '\x7f') {
      out += ch === '\\' ? '\\\\' : ch;
      i += len;
    } else {
      out += `\\${c.toString(8).padStart(3, '0')}`;
      i += 1;
    }
  }
  return out;
}

interface Listed {
  mode: string;
  uid: string;
  gid: string;
  size: string;
  date: string;
  name: string;
}

/** `tar -tvf` (GNU, numeric owners, literal names) parsed; names raw. */
function gnuList(tarFile: string): Listed[] {
  const text = raw(ok(`tar --numeric-owner --quoting-style=literal ${GNU_QUIET} -tvf ${q(tarFile)}`));
  return text.split('\n').slice(0, -1).map((l) => {
    const m = /^(\S{10}) (\d+)\/(\d+) +(\S+) (\d{4}-\d\d-\d\d \d\d:\d\d) (.*)$/s.exec(l);
    assert.ok(m, `tar -tv line ${JSON.stringify(l)}`);
    return { mode: m[1]!, uid: m[2]!, gid: m[3]!, size: m[4]!, date: m[5]!, name: m[6]! };
  });
}

/** `bsdtar -tvf` parsed; names as bsdtar escapes them (UTF-8 text). */
function bsdList(tarFile: string): Listed[] {
  const text = ok(`bsdtar --numeric-owner -tvf ${q(tarFile)}`).toString('utf8');
  return text.split('\n').slice(0, -1).map((l) => {
    const m = /^(\S{10}) +\d+ (\d+) +(\d+) +(\S+) (\w{3} [ \d]\d (?: \d{4}|\d\d:\d\d)) (.*)$/s.exec(l);
    assert.ok(m, `bsdtar -tv line ${JSON.stringify(l)}`);
    return { mode: m[1]!, uid: m[2]!, gid: m[3]!, size: m[4]!, date: m[5]!, name: m[6]! };
  });
}

/**
 * GNU tar warns about the POSIX `hdrcharset` keyword (it then takes the
 * bytes as they are, which is right): asserted once, silenced elsewhere.
 */
const GNU_QUIET = '--warning=no-unknown-keyword';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * What each tool should list for the objects of a volume (canonical order;
 * later names of a hard-link group as links to the first one).
 */
function expectedListing(src: Map<string, Obj>, tool: 'gnu' | 'bsd'): Listed[] {
  const firstOf = new Map<bigint, string>();
  return [...src].map(([p, o]) => {
    let type: string = o.type;
    let suffix = '';
    if (o.type === 'file' && o.nlink > 1) {
      const first = firstOf.get(o.ino);
      if (first === undefined) firstOf.set(o.ino, p);
      else {
        type = 'hardlink';
        suffix = ` link to ${tool === 'gnu' ? first : bsdEscape(first)}`;
      }
    }
    if (o.type === 'symlink') suffix = ` -> ${tool === 'gnu' ? o.target! : bsdEscape(o.target!)}`;
    const name = (tool === 'gnu' ? p : bsdEscape(p)) + (o.type === 'dir' ? '/' : '') + suffix;
    const size = o.rdev !== undefined ? `${Math.floor(o.rdev / 256) & 0xfff},${o.rdev & 0xff}` : type === 'file' ? String(o.size) : '0';
    // Both print whole seconds: GNU tar floors, so does libarchive (for our times, never at a minute's last second).
    const d = new Date(Number((o.mtimeNs - (((o.mtimeNs % NS) + NS) % NS)) / 1_000_000n));
    const date =
      tool === 'gnu'
        ? `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 16)}`
        : `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')}  ${d.getUTCFullYear()}`;
    return { mode: modeString(type, o.mode), uid: String(o.uid), gid: String(o.gid), size, date, name };
  });
}

test('a volume of every storable type: GNU tar and bsdtar list and extract every object exactly; .cairn/ comes first and is the catalog', () => {
  const base = tempDir('cairn-pack-');
  const src = path.join(base, 'src');
  const catalog = path.join(base, 'catalog');
  fs.mkdirSync(catalog);
  buildEveryType(src);
  const source = walk(src);
  assert.equal(source.size, isRoot ? 31 : 29, 'the source tree as built');

  const plan = planVolume(base, src, catalog);
  ok(`cairn-pack -o vol-%04d.tar ${q(plan)}`, base);
  assert.deepEqual(fs.readdirSync(base).sort(), ['catalog', 'plan.ndjson', 'scan.ndjson', 'src', 'vol-0001.tar']);
  assert.deepEqual(fs.readdirSync(catalog), ['vol-0001.ndjson']);
  const tarFile = path.join(base, 'vol-0001.tar');
  const descriptor = fs.readFileSync(path.join(catalog, 'vol-0001.ndjson'));

  // The descriptor: this volume's header, every object in canonical order, the second and third name of h1 as links.
  const recs = records(descriptor.toString('utf8'));
  assert.deepEqual(
    { cairn: recs[0]!.cairn, volume: recs[0]!.volume, format: recs[0]!.format, label: recs[0]!.label, medium_size: recs[0]!.medium_size, root: recs[0]!.root, hash: recs[0]!.hash },
    { cairn: 'volume', volume: 1, format: 'tar', label: 'CAIRN_0001', medium_size: 1_000_000_000, root: src, hash: 'sha256' },
  );
  assert.deepEqual(recs.at(-1), { cairn: 'end' });
  const body = recs.slice(1, -1);
  assert.deepEqual(body.map(recPath).map(show), [...source.keys()].map(show));
  assert.deepEqual(body.filter((r) => r.link !== undefined).map((r) => [r.path, r.link]), [['links/h2', 'links/h1'], ['links/h3', 'links/h1']]);
  for (const r of body) {
    const o = source.get(recPath(r))!;
    assert.equal(r.type, o.type, `${r.path}: type`);
    if (o.type === 'file') assert.equal(r.hash, `sha256:${o.sha}`, `${r.path}: hash`);
  }

  const plainList = shb(`tar -tf ${q(tarFile)} > /dev/null`);
  assert.deepEqual([plainList.code, plainList.stderr], [0, "tar: Ignoring unknown extended header keyword 'hdrcharset'\n"], 'one member with a long non-UTF-8 name');

  // Listings: .cairn/ and this volume's descriptor first, then every object, with its attributes.
  const descSize = String(descriptor.length);
  for (const tool of ['gnu', 'bsd'] as const) {
    const listed = tool === 'gnu' ? gnuList(tarFile) : bsdList(tarFile);
    assert.deepEqual(
      listed.slice(0, 2).map((l) => [l.mode, l.uid, l.gid, l.size, l.name]),
      [
        ['drwxr-xr-x', '0', '0', '0', '.cairn/'],
        ['-rw-r--r--', '0', '0', descSize, '.cairn/vol-0001.ndjson'],
      ],
      `${tool}: the first members`,
    );
    const want = expectedListing(source, tool);
    assert.deepEqual(listed.slice(2), want, `${tool}: tar -tvf`);
  }

  // Extraction by both tools.
  const gnu = path.join(base, 'gnu');
  const bsd = path.join(base, 'bsd');
  fs.mkdirSync(gnu);
  fs.mkdirSync(bsd);
  ok(`tar -xf ${q(tarFile)} ${isRoot ? '--same-owner' : ''} --numeric-owner --warning=no-timestamp ${GNU_QUIET} -C ${q(gnu)}`);
  ok(`bsdtar -xpf ${q(tarFile)} -C ${q(bsd)}`);
  for (const dir of [gnu, bsd]) {
    assert.deepEqual(fs.readdirSync(path.join(dir, '.cairn')), ['vol-0001.ndjson']);
    assert.ok(fs.readFileSync(path.join(dir, '.cairn', 'vol-0001.ndjson')).equals(descriptor), `${dir}: .cairn/vol-0001.ndjson is the catalog's file byte for byte`);
  }
  const notCairn = (p: string) => p === '.cairn' || p.startsWith('.cairn/');
  // GNU tar restores everything, mtimes to the nanosecond (dirs, symlinks, fifos and devices too).
  assert.deepEqual(differences(source, without(walk(gnu), notCairn)), []);
  // libarchive 3.6 reads a pax mtime "-S.F" as -S + 0.F (one second late for a negative time with a fraction); all else exact.
  const bsdMtime = (ns: bigint) => (ns < 0n && ns % NS !== 0n ? ns + NS : ns);
  assert.deepEqual(differences(source, without(walk(bsd), notCairn), { mtime: bsdMtime }), []);
  // The instants that matter, spelled out.
  assert.equal(source.get('old')!.mtimeNs, nsOf(T1965), 'the source keeps the 1965 time');
  assert.equal(walk(gnu).get('old')!.mtimeNs, nsOf(T1965));
  assert.equal(walk(bsd).get('old')!.mtimeNs, nsOf(T1965) + NS);
  assert.equal(walk(gnu).get('future')!.mtimeNs, nsOf(T2040));
  assert.equal(walk(bsd).get('future')!.mtimeNs, nsOf(T2040));
  if (isRoot) {
    for (const dir of [gnu, bsd]) assert.deepEqual([walk(dir).get('bigid')!.uid, walk(dir).get('bigid')!.gid], [3_000_000_000, 3_000_000_001]);
    // No owner names for ids without one: bsdtar shows the numbers even without --numeric-owner.
    const big = body.find((r) => r.path === 'bigid')!;
    assert.deepEqual([big.uid, big.gid, big.user, big.group], [3_000_000_000, 3_000_000_001, undefined, undefined]);
    assert.match(ok(`bsdtar -tvf ${q(tarFile)} bigid`).toString(), /^-rw-r--r-- +\d+ 3000000000 +3000000001 +8 /);
  }
});

/** Exactly one line on stderr, from cairn-pack. */
function oneLine(stderr: string, re: RegExp): void {
  assert.match(stderr, /^cairn-pack: [^\n]*\n$/, `one line: ${JSON.stringify(stderr)}`);
  assert.match(stderr, re);
}

test('an entries stream becomes a plain tar without .cairn/; -z is the same tar gzipped; | head -c 100 exits 0 quietly', () => {
  const base = tempDir('cairn-pack-');
  const src = path.join(base, 'src');
  buildEveryType(src);
  makeSocket(path.join(src, 'sock'));
  const source = without(walk(src), (p) => p === 'sock');

  const r = shb(`cairn-scan ${q(src)} | cairn-pack > x.tar`, base);
  assert.equal(r.code, 0, r.stderr);
  oneLine(r.stderr, /\b1 sockets? left out\b/);
  // Every object, hard links by inode, in canonical order; no catalog.
  assert.deepEqual(gnuList(path.join(base, 'x.tar')), expectedListing(source, 'gnu'));
  assert.deepEqual(bsdList(path.join(base, 'x.tar')), expectedListing(source, 'bsd'));
  const gnu = path.join(base, 'gnu');
  fs.mkdirSync(gnu);
  ok(`tar -xf x.tar ${isRoot ? '--same-owner' : ''} --numeric-owner --warning=no-timestamp ${GNU_QUIET} -C ${q(gnu)}`, base);
  assert.deepEqual(differences(source, walk(gnu)), []);

  const z = shb(`cairn-scan ${q(src)} | cairn-pack -z > x.tgz`, base);
  assert.equal(z.code, 0, z.stderr);
  oneLine(z.stderr, /\b1 sockets? left out\b/);
  assert.deepEqual([...fs.readFileSync(path.join(base, 'x.tgz')).subarray(0, 2)], [0x1f, 0x8b], 'gzip magic');
  ok('gzip -t x.tgz', base);
  assert.ok(ok('gzip -dc x.tgz', base).equals(fs.readFileSync(path.join(base, 'x.tar'))), 'the gzip holds the very same tar');
  const gz = path.join(base, 'gz');
  fs.mkdirSync(gz);
  ok(`tar -xzf x.tgz ${isRoot ? '--same-owner' : ''} --numeric-owner --warning=no-timestamp ${GNU_QUIET} -C ${q(gz)}`, base);
  assert.deepEqual(differences(source, walk(gz)), []);

  // A reader that stops early: EPIPE is the normal end, exit 0, nothing on stderr.
  const big = path.join(base, 'big');
  fs.mkdirSync(big);
  fs.writeFileSync(path.join(big, 'a.bin'), bytesOf(7, 4 << 20));
  for (let i = 0; i < 50; i++) fs.writeFileSync(path.join(big, `small-${i}`), `small ${i}\n`);
  ok(`cairn-scan ${q(big)} > big.ndjson && cairn-pack < big.ndjson > big.tar`, base);
  for (const z of ['', '-z']) {
    const h = shb(`cairn-pack ${z} < big.ndjson 2> err | head -c 100 > head.out; echo "\${PIPESTATUS[*]}"`, base);
    assert.deepEqual([h.code, h.stdout.toString(), h.stderr], [0, '0 0\n', ''], `cairn-pack ${z} | head`);
    assert.equal(fs.readFileSync(path.join(base, 'err'), 'utf8'), '', `cairn-pack ${z} | head: stderr`);
    const head = fs.readFileSync(path.join(base, 'head.out'));
    assert.equal(head.length, 100);
    if (z === '') assert.ok(head.equals(fs.readFileSync(path.join(base, 'big.tar')).subarray(0, 100)), 'the first 100 bytes of the tar');
    else assert.deepEqual([...head.subarray(0, 2)], [0x1f, 0x8b]);
  }
});

test('a file changed between plan and pack: exit 1 naming it, left out of the tar and the descriptor; the next plan stores it on volume 2', () => {
  const base = tempDir('cairn-pack-');
  const src = path.join(base, 'src');
  const catalog = path.join(base, 'catalog');
  fs.mkdirSync(catalog);
  fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(src, 'f1'), 'one\n');
  fs.writeFileSync(path.join(src, 'f3'), 'three\n');
  fs.writeFileSync(path.join(src, 'sub', 'f2'), 'two\n');
  fs.writeFileSync(path.join(src, 'sub', 'keep'), 'kept\n');
  const plan = planVolume(base, src, catalog);
  fs.writeFileSync(path.join(src, 'sub', 'f2'), 'two, rewritten longer after the plan\n');

  const r = shb(`cairn-pack -o v1.tar ${q(plan)}`, base);
  assert.equal(r.code, 1, r.stderr);
  oneLine(r.stderr, /^cairn-pack: sub\/f2: /);
  const names = ['.cairn/', '.cairn/vol-0001.ndjson', 'f1', 'f3', 'sub/', 'sub/keep'];
  assert.deepEqual(gnuList(path.join(base, 'v1.tar')).map((l) => l.name), names);
  assert.deepEqual(bsdList(path.join(base, 'v1.tar')).map((l) => l.name), names);
  assert.deepEqual(fs.readdirSync(catalog), ['vol-0001.ndjson']);
  const desc = records(fs.readFileSync(path.join(catalog, 'vol-0001.ndjson'), 'utf8'));
  assert.deepEqual(desc.slice(1, -1).map((x) => x.path), ['f1', 'f3', 'sub', 'sub/keep']);
  assert.ok(ok('tar -xOf v1.tar .cairn/vol-0001.ndjson', base).equals(fs.readFileSync(path.join(catalog, 'vol-0001.ndjson'))));

  const plan2 = planVolume(base, src, catalog);
  const recs2 = records(fs.readFileSync(plan2, 'utf8'));
  assert.deepEqual((recs2[0]!.archive as { volumes: { volume: number }[] }).volumes.map((v) => v.volume), [2]);
  const stores = recs2.slice(1, -1).map((a) => [a.op, a.path, a.volume, (a.src as { size?: number }).size]);
  assert.deepEqual(stores, [['store', 'sub', 2, undefined], ['store', 'sub/f2', 2, fs.statSync(path.join(src, 'sub', 'f2')).size]]);
  ok(`cairn-pack -o v2.tar ${q(plan2)}`, base);
  assert.deepEqual(gnuList(path.join(base, 'v2.tar')).map((l) => l.name), ['.cairn/', '.cairn/vol-0002.ndjson', '.cairn/vol-0001.ndjson', 'sub/', 'sub/f2']);
  assert.equal(ok('tar -xOf v2.tar sub/f2', base).toString(), 'two, rewritten longer after the plan\n');
  assert.deepEqual(fs.readdirSync(catalog).sort(), ['vol-0001.ndjson', 'vol-0002.ndjson']);
});

test('objects are checked a batch behind, with and without the addon: a file changed in the first batch and its hard link in a later one are both left out, and only they', () => {
  for (const native of ['1', '0']) {
    const base = tempDir('cairn-pack-');
    const src = path.join(base, 'src');
    const catalog = path.join(base, 'catalog');
    fs.mkdirSync(catalog);
    fs.mkdirSync(path.join(src, 'a'), { recursive: true });
    fs.mkdirSync(path.join(src, 'z'));
    // 700 files: more than one batch of 512 before the link.
    for (let i = 0; i < 700; i++) fs.writeFileSync(path.join(src, 'a', `f${String(i).padStart(3, '0')}`), `${i}\n`);
    fs.linkSync(path.join(src, 'a', 'f005'), path.join(src, 'z', 'link'));
    const plan = planVolume(base, src, catalog);
    const linkAction = records(fs.readFileSync(plan, 'utf8')).find((a) => a.path === 'z/link');
    assert.equal(linkAction?.link, 'a/f005', 'the plan stores z/link as a link to a/f005');
    fs.writeFileSync(path.join(src, 'a', 'f005'), 'changed after the plan\n');

    const r = shb(`CAIRN_NATIVE=${native} cairn-pack -o v1.tar ${q(plan)}`, base);
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stderr.split('\n').slice(0, -1);
    assert.equal(lines.length, 2, r.stderr);
    assert.match(lines[0]!, /^cairn-pack: a\/f005: .*left out of volume 1/);
    assert.match(lines[1]!, /^cairn-pack: z\/link: its hard link was left out: left out of volume 1/);
    const names = gnuList(path.join(base, 'v1.tar')).map((l) => l.name);
    assert.ok(!names.includes('a/f005') && !names.includes('z/link'), `CAIRN_NATIVE=${native}: neither is in the tar`);
    assert.equal(names.filter((n) => n.startsWith('a/f')).length, 699);
    const desc = records(fs.readFileSync(path.join(catalog, 'vol-0001.ndjson'), 'utf8')).slice(1, -1).map((x) => x.path);
    assert.ok(!desc.includes('a/f005') && !desc.includes('z/link'));
    assert.equal(desc.length, 2 + 699, 'a, z and the 699 files');
  }
});

const MEDIUM: Record<string, number> = { '1M': 1_000_000, '300k': 300_000 };

test('volumes of 1M and 300k: every tar fits its medium and its planned size; the tars together give back the tree, split files rejoined by cat', () => {
  const base = tempDir('cairn-pack-');
  const src = path.join(base, 'src');
  const rnd = prng(20240505);
  for (let i = 0; i < 300; i++) {
    const dir = path.join(src, `d${String(i % 15).padStart(2, '0')}`);
    fs.mkdirSync(dir, { recursive: true });
    const size = i % 30 === 0 ? 20_000 + Math.floor(rnd() * 40_000) : Math.floor(rnd() * 6000);
    fs.writeFileSync(path.join(dir, `f-${String(i).padStart(3, '0')}.bin`), bytesOf(i + 1, size));
  }
  fs.mkdirSync(path.join(src, 'big'));
  fs.writeFileSync(path.join(src, 'big', 'one.bin'), bytesOf(1001, 1_200_000));
  fs.writeFileSync(path.join(src, 'big', 'two.bin'), bytesOf(1002, 450_000));
  const source = walk(src);
  ok(`cairn-scan --hash sha256 ${q(src)} > scan.ndjson`, base);

  for (const [medium, split] of [['1M', ['big/one.bin']], ['300k', ['big/one.bin', 'big/two.bin']]] as const) {
    const work = path.join(base, medium);
    const catalog = path.join(work, 'catalog');
    fs.mkdirSync(catalog, { recursive: true });
    ok(`cairn-plan --archive --catalog catalog --medium-size ${medium} --format tar --volumes 20 ../scan.ndjson > plan.ndjson`, work);
    const header = records(fs.readFileSync(path.join(work, 'plan.ndjson'), 'utf8'))[0]!;
    const vols = (header.archive as { volumes: { volume: number; bytes: number }[] }).volumes;
    const n = vols.length;
    assert.ok(n >= (medium === '1M' ? 4 : 12) && n <= 20, `${medium}: ${n} volumes`);
    assert.deepEqual(vols.map((v) => v.volume), Array.from({ length: n }, (_, i) => i + 1));
    ok('cairn-pack -o v-%d.tar plan.ndjson', work);
    assert.deepEqual(fs.readdirSync(work).filter((f) => f.endsWith('.tar')).sort(), vols.map((v) => `v-${v.volume}.tar`).sort());
    assert.deepEqual(fs.readdirSync(catalog), vols.map((v) => `vol-${String(v.volume).padStart(4, '0')}.ndjson`));
    const members = new Map<number, string[]>();
    for (const v of vols) {
      const size = fs.statSync(path.join(work, `v-${v.volume}.tar`)).size;
      assert.ok(size <= MEDIUM[medium]! && size <= v.bytes, `${medium}: v-${v.volume}.tar is ${size} bytes; medium ${MEDIUM[medium]}, planned ${v.bytes}`);
      const names = gnuList(path.join(work, `v-${v.volume}.tar`)).map((l) => l.name);
      members.set(v.volume, names);
      const cairn = ['.cairn/', `.cairn/vol-${String(v.volume).padStart(4, '0')}.ndjson`, ...vols.filter((w) => w.volume < v.volume).map((w) => `.cairn/vol-${String(w.volume).padStart(4, '0')}.ndjson`)];
      assert.deepEqual(names.slice(0, cairn.length), cairn, `${medium}: v-${v.volume}.tar begins with its catalog`);
      assert.ok(names.length > cairn.length, `${medium}: v-${v.volume}.tar stores objects`);
    }

    for (const tool of ['gnu', 'bsd'] as const) {
      const out = path.join(work, tool);
      fs.mkdirSync(out);
      for (const v of vols) ok(tool === 'gnu' ? `tar -xf v-${v.volume}.tar -C ${tool}` : `bsdtar -xpf v-${v.volume}.tar -C ${tool}`, work);
      const got = walk(out);
      for (const v of vols) {
        const name = `vol-${String(v.volume).padStart(4, '0')}.ndjson`;
        assert.ok(fs.readFileSync(path.join(out, '.cairn', name)).equals(fs.readFileSync(path.join(catalog, name))), `${tool} ${medium}: .cairn/${name}`);
      }
      // Parts: NAME.cairn-part-<offset>, contiguous, on more than one volume, rejoined by cat in name order.
      const PART = /\.cairn-part-(\d{15})$/;
      const parts = new Map<string, string[]>();
      for (const p of got.keys()) {
        const m = PART.exec(p);
        if (m) parts.set(p.slice(0, m.index), [...(parts.get(p.slice(0, m.index)) ?? []), p]);
      }
      assert.deepEqual([...parts.keys()].sort(), [...split], `${tool} ${medium}: split files`);
      for (const [file, ps] of parts) {
        ps.sort();
        let offset = 0;
        for (const p of ps) {
          assert.equal(Number(PART.exec(p)![1]), offset, `${p}: offset`);
          offset += got.get(p)!.size;
        }
        const joined = ok(`cat ${ps.map((p) => q(p)).join(' ')}`, out);
        assert.equal(sha(joined), source.get(file)!.sha, `${tool} ${medium}: cat ${file}.cairn-part-* is ${file}`);
        const onVolumes = vols.filter((v) => members.get(v.volume)!.some((m) => m.startsWith(`${file}.cairn-part-`)));
        assert.ok(onVolumes.length >= 2, `${file}: parts on ${onVolumes.length} volumes`);
      }
      // Everything else exactly as in the source. GNU tar sets the time of a directory that
      // already exists (from an earlier volume) again; bsdtar leaves it as the new files made it.
      const cairnOrPart = (p: string) => p === '.cairn' || p.startsWith('.cairn/') || PART.test(p);
      const want = without(source, (p) => (split as readonly string[]).includes(p));
      assert.deepEqual(differences(want, without(got, cairnOrPart), { dirMtimes: tool === 'gnu' }), [], `${tool} ${medium}`);
    }
  }
});

test('usage errors: a multi-volume plan without %d, a volume already in the catalog: exit 2, one line, nothing written', () => {
  const base = tempDir('cairn-pack-');
  const src = path.join(base, 'src');
  const catalog = path.join(base, 'catalog');
  fs.mkdirSync(src);
  fs.mkdirSync(catalog);
  for (let i = 1; i <= 3; i++) fs.writeFileSync(path.join(src, `big${i}`), bytesOf(i, 400_000));
  const plan = planVolume(base, src, catalog, '--medium-size 500k --volumes 20');
  assert.equal((records(fs.readFileSync(plan, 'utf8'))[0]!.archive as { volumes: unknown[] }).volumes.length, 3);

  const before = fs.readdirSync(base).sort();
  const r = shb(`cairn-pack -o v.tar ${q(plan)}`, base);
  assert.equal(r.code, 2);
  oneLine(r.stderr, /%d/);
  assert.deepEqual(fs.readdirSync(base).sort(), before, 'no file written');
  assert.deepEqual(fs.readdirSync(catalog), []);

  ok(`cairn-pack -o 'v-%d.tar' ${q(plan)}`, base);
  const cat = () => new Map(fs.readdirSync(catalog).map((f) => [f, fs.readFileSync(path.join(catalog, f)).toString('base64') + String(fs.statSync(path.join(catalog, f)).mtimeMs)]));
  const tars = () => new Map(fs.readdirSync(base).filter((f) => f.endsWith('.tar')).map((f) => [f, sha(fs.readFileSync(path.join(base, f))) + String(fs.statSync(path.join(base, f)).mtimeMs)]));
  const catalogBefore = cat();
  const tarsBefore = tars();
  assert.deepEqual([...catalogBefore.keys()].sort(), ['vol-0001.ndjson', 'vol-0002.ndjson', 'vol-0003.ndjson']);
  assert.deepEqual([...tarsBefore.keys()].sort(), ['v-1.tar', 'v-2.tar', 'v-3.tar']);
  for (const args of [`-o 'v-%d.tar'`, '-o other-%d.tar']) {
    const again = shb(`cairn-pack ${args} ${q(plan)}`, base);
    assert.equal(again.code, 2, `again ${args}: ${again.stderr}`);
    oneLine(again.stderr, /already in the catalog/);
    assert.deepEqual(cat(), catalogBefore, 'catalog unchanged');
    assert.deepEqual(tars(), tarsBefore, 'no tar written or touched');
  }
  assert.deepEqual(fs.readdirSync(base).filter((f) => f.startsWith('.cairn-tmp.')), []);
});

test('kill -9 in the middle of a large volume: no file under the -o name, catalog unchanged; a rerun succeeds and leaves no temporary file', async () => {
  const base = tempDir('cairn-pack-');
  const src = path.join(base, 'src');
  const catalog = path.join(base, 'catalog');
  const out = path.join(base, 'out');
  fs.mkdirSync(src);
  fs.mkdirSync(catalog);
  fs.mkdirSync(out);
  ok(`head -c 200M /dev/zero > ${q(path.join(src, 'big'))}`);
  fs.writeFileSync(path.join(src, 'small'), 'small\n');
  const plan = planVolume(base, src, catalog);

  const child = spawn(path.join(BIN, 'cairn-pack'), ['-o', path.join(out, 'v.tar'), plan], { stdio: ['ignore', 'ignore', 'pipe'] });
  const closed = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
  const temp = path.join(out, `.cairn-tmp.${child.pid}.v.tar`);
  const size = () => (fs.existsSync(temp) ? fs.statSync(temp).size : 0);
  for (let i = 0; i < 3000 && size() < 20 << 20; i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(size() >= 20 << 20, `the temporary tar grew: ${size()} bytes`);
  assert.ok(size() < 200 << 20, 'not complete yet');
  child.kill('SIGKILL');
  assert.deepEqual(await closed, [null, 'SIGKILL']);
  assert.deepEqual(fs.readdirSync(out), [`.cairn-tmp.${child.pid}.v.tar`], 'only the temporary file');
  assert.deepEqual(fs.readdirSync(catalog).filter((f) => !f.startsWith('.cairn-tmp.')), [], 'no descriptor in the catalog');

  ok(`cairn-pack -o ${q(path.join(out, 'v.tar'))} ${q(plan)}`);
  assert.deepEqual(fs.readdirSync(catalog), ['vol-0001.ndjson']);
  assert.deepEqual(fs.readdirSync(out), ['v.tar'], 'the rerun cleans the killed run\'s temporary file');
  const tarFile = path.join(out, 'v.tar');
  assert.deepEqual(gnuList(tarFile).map((l) => [l.name, l.size]), [['.cairn/', '0'], ['.cairn/vol-0001.ndjson', String(fs.statSync(path.join(catalog, 'vol-0001.ndjson')).size)], ['big', String(200 << 20)], ['small', '6']]);
  assert.equal(sha(ok(`tar -xOf ${q(tarFile)} big`)), sha(Buffer.alloc(200 << 20)));
});

for (const alg of ['sha256', 'blake3']) {
test(`${alg}: a large file (hashed in the hashing thread) whose bytes differ from the planned hash: exit 1, in the tar but out of the catalog; small and large files alike`, () => {
  const base = tempDir('cairn-pack-hash-');
  const src = path.join(base, 'src');
  const catalog = path.join(base, 'cat');
  fs.mkdirSync(src);
  fs.mkdirSync(catalog);
  const big = bytesOf(7, 20 << 20); // over the 16 MiB from which a thread hashes
  fs.writeFileSync(path.join(src, 'big.bin'), big);
  fs.writeFileSync(path.join(src, 'small.txt'), 'small\n');
  fs.writeFileSync(path.join(src, 'ok.txt'), 'ok\n');
  const plan = planVolume(base, src, catalog, undefined, alg);
  // The plan as if the scan had seen other bytes (same size and time): what pack reads does not match.
  const wrong = `${alg}:${'0'.repeat(64)}`;
  const original = fs.readFileSync(plan, 'utf8');
  const edited = original
    .split('\n')
    .map((l) => (/"path":"(big\.bin|small\.txt)"/.test(l) ? l.replace(new RegExp(`"hash":"${alg}:[0-9a-f]{64}"`), `"hash":"${wrong}"`) : l))
    .join('\n');
  assert.equal(edited.split(wrong).length, 3, 'both hashes replaced');
  fs.writeFileSync(plan, edited);
  const r = shb(`cairn-pack -o ${q(path.join(base, 'v.tar'))} ${q(plan)}`);
  assert.equal(r.code, 1, r.stderr);
  assert.deepEqual(
    r.stderr.trimEnd().split('\n').sort(),
    ['big.bin', 'small.txt'].map((p) => `cairn-pack: ${p}: content differs from the planned hash (changed while being read): left out of the catalog (the next volume stores it again)`),
  );
  // The tar is whole (its members as read) ...
  assert.equal(sha(ok(`tar -xOf ${q(path.join(base, 'v.tar'))} big.bin`)), sha(big));
  // ... and the catalog records only what matched.
  const stored = records(fs.readFileSync(path.join(catalog, 'vol-0001.ndjson'), 'utf8')).filter((x) => x.type === 'file').map((x) => x.path);
  assert.deepEqual(stored, ['ok.txt']);

  // The plan as scanned: every file matches its hash, and the descriptor carries them.
  fs.rmSync(path.join(catalog, 'vol-0001.ndjson'));
  fs.writeFileSync(plan, original);
  const again = shb(`cairn-pack -o ${q(path.join(base, 'v2.tar'))} ${q(plan)}`);
  assert.equal(again.code, 0, again.stderr);
  const hashes = records(fs.readFileSync(path.join(catalog, 'vol-0001.ndjson'), 'utf8')).filter((x) => x.type === 'file').map((x) => [x.path, x.hash]);
  assert.deepEqual(hashes, [['big.bin', `${alg}:${hashOf(alg, big)}`], ['ok.txt', `${alg}:${hashOf(alg, Buffer.from('ok\n'))}`], ['small.txt', `${alg}:${hashOf(alg, Buffer.from('small\n'))}`]]);
});
}

test('small files read in batches by the reader thread: checked one by one, a hard link fails with its target, and Node\'s calls (CAIRN_NATIVE=0) store the same tar', () => {
  const base = tempDir('cairn-pack-batches-');
  const src = path.join(base, 'src');
  fs.mkdirSync(src);
  // More files than a batch (256) and more bytes than an output buffer (4 MiB): batches in flight when buffers go out.
  for (let i = 0; i < 700; i++) fs.writeFileSync(path.join(src, `f${String(i).padStart(3, '0')}`), bytesOf(i, (i * 97) % 20000));
  fs.linkSync(path.join(src, 'f400'), path.join(src, 'zz-link'));
  const wrong = `sha256:${'0'.repeat(64)}`;
  const tars: Buffer[] = [];
  for (const native of ['1', '0']) {
    const catalog = path.join(base, `cat${native}`);
    fs.mkdirSync(catalog);
    const plan = planVolume(base, src, catalog);
    const edited = fs
      .readFileSync(plan, 'utf8')
      .split('\n')
      .map((l) => (/"path":"f(003|400|699)"/.test(l) ? l.replace(/"hash":"sha256:[0-9a-f]{64}"/, `"hash":"${wrong}"`) : l))
      .join('\n');
    fs.writeFileSync(plan, edited);
    const tarFile = path.join(base, `v${native}.tar`);
    const r = shb(`CAIRN_NATIVE=${native} cairn-pack -o ${q(tarFile)} ${q(plan)}`);
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(r.stderr.trimEnd().split('\n').sort(), [
      ...['f003', 'f400', 'f699'].map((p) => `cairn-pack: ${p}: content differs from the planned hash (changed while being read): left out of the catalog (the next volume stores it again)`),
      'cairn-pack: zz-link: its hard link target failed: left out of the catalog (the next volume stores it again)',
    ]);
    const stored = records(fs.readFileSync(path.join(catalog, 'vol-0001.ndjson'), 'utf8')).filter((x) => x.type === 'file').map((x) => x.path as string);
    assert.equal(stored.length, 697);
    assert.ok(!stored.includes('f400') && !stored.includes('zz-link') && stored.includes('f401'));
    // Every member holds its file's bytes, the failed ones included (as they were read).
    const out = path.join(base, `x${native}`);
    fs.mkdirSync(out);
    ok(`tar -xf ${q(tarFile)} -C ${q(out)}`);
    for (let i = 0; i < 700; i += 1) {
      const n = `f${String(i).padStart(3, '0')}`;
      assert.ok(fs.readFileSync(path.join(out, n)).equals(fs.readFileSync(path.join(src, n))), n);
    }
    assert.equal(fs.statSync(path.join(out, 'zz-link')).ino, fs.statSync(path.join(out, 'f400')).ino);
    tars.push(ok(`tar -xOf ${q(tarFile)} --exclude=.cairn`));
  }
  assert.ok(tars[0]!.equals(tars[1]!), 'the same members with the addon and without');
});
