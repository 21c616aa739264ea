/**
 * Generates the inputs of `make bench` (bench/run.sh), deterministically.
 *
 *   node dist/bench/gen.js tree DIR           ~100k files: 100 dirs x 10 subdirs x 100 files
 *                                             of varied small sizes and names, 1 symlink per subdir
 *   node dist/bench/gen.js flat DIR N         N empty files in one directory
 *   node dist/bench/gen.js deep DIR C L K     C chains of L nested levels, each level holding
 *                                             K-1 empty files and the next level's directory
 *   node dist/bench/gen.js big DIR N MIB      N incompressible files of MIB MiB each
 *   node dist/bench/gen.js files DIR D F KB   D directories of F incompressible files of about KB kB
 *   node dist/bench/gen.js catalog SCAN DIR N N volumes of a catalog, each holding one copy of SCAN,
 *                                             and a source stream of all copies with changes (archive-plan)
 *   node dist/bench/gen.js fixture SCAN OUT N an entries stream of N copies of SCAN's records,
 *                                             each under its own top directory r0, r1, ...
 *   node dist/bench/gen.js pair SCAN DIR N    DIR/a.ndjson and DIR/b.ndjson: two entries streams of N
 *                                             copies of SCAN's records (as fixture, inode numbers made
 *                                             distinct per copy), 1% of the files differing: see pair()
 *
 * Trees are built under DIR.tmp and renamed to DIR when complete, so an
 * interrupted run never leaves a half tree under the final name.
 */
import { createHash } from 'node:crypto';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { prng } from '../test/helpers/prng';

function pick<T>(rand: () => number, list: readonly T[]): T {
  return list[Math.floor(rand() * list.length)]!;
}

function fresh(dir: string): string {
  const tmp = `${dir}.tmp`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  return tmp;
}

function touch(file: string): void {
  fs.closeSync(fs.openSync(file, 'w'));
}

const TOP = ['Photos', 'Projects', 'Music', 'Documents', 'Archive', 'src', 'Mail', 'Backups', 'Scans', 'Reisen Ünterwegs', 'café notes', 'work', '2019-03 Trip', 'tax', 'video'];
const SUB = ['raw', 'edits', 'export', 'docs', 'lib', 'test', 'drafts', 'old', 'Final Versions', 'misc', 'assets', 'data'];
const STEMS = ['IMG_', 'DSC', 'notes ', 'report-', 'data_', 'invoice ', 'track', 'chapter', 'main', 'index', 'résumé ', 'scan', 'Screenshot 2021-', 'mail-', 'README'];
const EXTS = ['.jpg', '.JPG', '.txt', '.md', '.pdf', '.csv', '.ts', '.js', '.json', '.flac', '.mp3', '.png', '.eml', '.docx', '', '.tar.gz', '.c', '.h'];

/** 100 dirs x 10 subdirs x 100 files, sizes log-uniform in 0..16 KiB (mean ~1.7 KiB). */
function tree(dir: string): void {
  const tmp = fresh(dir);
  const rand = prng(20240301);
  const pool = crypto.randomBytes(1 << 20);
  let files = 0;
  let bytes = 0;
  for (let d = 0; d < 100; d++) {
    const top = path.join(tmp, `${pick(rand, TOP)} ${String(d).padStart(3, '0')}`);
    fs.mkdirSync(top);
    for (let s = 0; s < 10; s++) {
      const sub = path.join(top, `${pick(rand, SUB)}-${s}`);
      fs.mkdirSync(sub);
      let last = '';
      for (let f = 0; f < 100; f++) {
        const name = `${pick(rand, STEMS)}${Math.floor(rand() * 10000)}-${f}${pick(rand, EXTS)}`;
        const size = Math.floor(Math.exp(rand() * Math.log(16385))) - 1;
        const off = Math.floor(rand() * (pool.length - size));
        fs.writeFileSync(path.join(sub, name), pool.subarray(off, off + size));
        files++;
        bytes += size;
        last = name;
      }
      fs.symlinkSync(last, path.join(sub, 'latest'));
    }
  }
  fs.renameSync(tmp, dir);
  process.stdout.write(`${files} files, ${(bytes / 2 ** 20).toFixed(0)} MiB\n`);
}

function flat(dir: string, n: number): void {
  const tmp = fresh(dir);
  const width = String(n - 1).length;
  for (let i = 0; i < n; i++) touch(path.join(tmp, `f${String(i).padStart(width, '0')}`));
  fs.renameSync(tmp, dir);
  process.stdout.write(`${n} empty files\n`);
}

/** Works with relative names after chdir: paths 1000s of bytes long would make each create walk them. */
function deep(dir: string, chains: number, levels: number, perLevel: number): void {
  const tmp = fresh(dir);
  const home = process.cwd();
  const fw = String(perLevel - 2).length;
  for (let c = 0; c < chains; c++) {
    process.chdir(tmp);
    const top = `c${String(c).padStart(2, '0')}`;
    fs.mkdirSync(top);
    process.chdir(top);
    for (let l = 0; l < levels; l++) {
      for (let f = 0; f < perLevel - 1; f++) touch(`f${String(f).padStart(fw, '0')}`);
      if (l < levels - 1) {
        fs.mkdirSync('d');
        process.chdir('d');
      }
    }
  }
  process.chdir(home);
  fs.renameSync(tmp, dir);
  process.stdout.write(`${chains * levels * perLevel} entries, ${levels} levels of directories\n`);
}

/** AES-CTR keystream: incompressible and far faster than /dev/urandom. */
function big(dir: string, n: number, mib: number): void {
  const tmp = fresh(dir);
  const zeros = Buffer.alloc(1 << 20);
  for (let i = 1; i <= n; i++) {
    const cipher = crypto.createCipheriv('aes-128-ctr', crypto.randomBytes(16), crypto.randomBytes(16));
    const fd = fs.openSync(path.join(tmp, `f${i}.bin`), 'w');
    for (let m = 0; m < mib; m++) fs.writeSync(fd, cipher.update(zeros));
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, dir);
  process.stdout.write(`${n} files of ${mib} MiB\n`);
}

/** D directories of F incompressible files of about KB kB each (sizes vary ±50%): the object-storage tree. */
function files(dir: string, d: number, f: number, kb: number): void {
  const tmp = fresh(dir);
  const rand = prng(42);
  let bytes = 0;
  for (let i = 0; i < d; i++) {
    const sub = path.join(tmp, `d${String(i).padStart(3, '0')}`);
    fs.mkdirSync(sub);
    for (let j = 0; j < f; j++) {
      const size = Math.round(kb * 1000 * (0.5 + rand()));
      fs.writeFileSync(path.join(sub, `f${String(j).padStart(4, '0')}.bin`), crypto.randomBytes(size));
      bytes += size;
    }
  }
  fs.renameSync(tmp, dir);
  process.stdout.write(`${d * f} files, ${bytes} bytes\n`);
}

/**
 * N copies of a scan's records under r0/, r1/, ...: the single-digit prefixes
 * keep canonical order (r0 < r0/... < r1), and the copies keep every line as
 * it is apart from its path, so the reader validates real entries.
 */
async function fixture(scan: string, out: string, copies: number): Promise<void> {
  const lines: string[] = [];
  const rl = readline.createInterface({ input: fs.createReadStream(scan), crlfDelay: Infinity });
  for await (const line of rl) lines.push(line);
  const header = lines.shift();
  if (header === undefined || lines.pop() !== '{"cairn":"end"}') throw new Error(`${scan}: not a complete entries stream`);
  const firstDir = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((e) => e.type === 'dir');
  if (firstDir === undefined || lines.some((l) => l.includes('"path_b64"'))) throw new Error(`${scan}: needs a dir entry and no path_b64`);
  const tmp = `${out}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  let buf = `${header}\n`;
  let count = 1;
  const flush = (): void => {
    fs.writeSync(fd, buf);
    buf = '';
  };
  for (let k = 0; k < copies; k++) {
    buf += `${JSON.stringify({ ...firstDir, path: `r${k}` })}\n`;
    count++;
    const prefix = `{"path":"r${k}/`;
    for (const line of lines) {
      if (!line.startsWith('{"path":"')) throw new Error(`${scan}: expected records to start with "path"`);
      buf += prefix + line.slice(9) + '\n';
      if (buf.length > 1 << 20) flush();
    }
    count += lines.length;
  }
  buf += '{"cairn":"end"}\n';
  count++;
  flush();
  fs.closeSync(fd);
  fs.renameSync(tmp, out);
  process.stdout.write(`${count} lines\n`);
}

/** A later time: secs seconds after an RFC 3339 time with 9 fractional digits. */
function later(mtime: string, secs: number): string {
  const t = Date.parse(`${mtime.slice(0, 19)}Z`) / 1000 + secs;
  return `${new Date(t * 1000).toISOString().slice(0, 19)}${mtime.slice(19)}`;
}

/**
 * Two entries streams for cairn-diff, A and B, made from N copies of a scan
 * (as fixture()). Of every 400 file records in order, one is changed in B
 * (size and mtime: new content), one gets another mode in B (attributes
 * only), one is missing from B (A only) and one is missing from A (B only):
 * 1% of the files differ. Both streams keep canonical order, as each is a
 * subsequence of the copies. As between a source and its mirror, the inode
 * numbers of B are not those of A, so that equal entries are not equal lines
 * (a reader could skip parsing equal lines, which a real mirror rarely has). DIR/expect.txt holds the counts that
 * `cairn-diff --check A B` must find: `a N b N differ N a-only N b-only N`.
 */
async function pair(scan: string, dir: string, copies: number): Promise<void> {
  const lines: string[] = [];
  const rl = readline.createInterface({ input: fs.createReadStream(scan), crlfDelay: Infinity });
  for await (const line of rl) lines.push(line);
  const header = lines.shift();
  if (header === undefined || lines.pop() !== '{"cairn":"end"}') throw new Error(`${scan}: not a complete entries stream`);
  const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const firstDir = records.find((e) => e.type === 'dir');
  if (firstDir === undefined || records.some((e) => e.path_b64 !== undefined)) throw new Error(`${scan}: needs a dir entry and no path_b64`);
  const h = JSON.parse(header) as Record<string, unknown>;
  const tmp = fresh(dir);
  const fa = fs.openSync(path.join(tmp, 'a.ndjson'), 'w');
  const fb = fs.openSync(path.join(tmp, 'b.ndjson'), 'w');
  let bufA = `${header}\n`;
  let bufB = `${JSON.stringify({ ...h, root: `${String(h.root)}-copy` })}\n`;
  const n = { a: 0, b: 0, differ: 0, aOnly: 0, bOnly: 0 };
  let files = 0;
  const flush = (force: boolean): void => {
    if (force || bufA.length > 1 << 20) {
      fs.writeSync(fa, bufA);
      bufA = '';
    }
    if (force || bufB.length > 1 << 20) {
      fs.writeSync(fb, bufB);
      bufB = '';
    }
  };
  for (let k = 0; k < copies; k++) {
    const ino = (e: Record<string, unknown>, side: number): Record<string, unknown> => (typeof e.ino === 'number' ? { ino: e.ino + k * 1e8 + side * 5e7 } : {});
    bufA += `${JSON.stringify({ ...firstDir, path: `r${k}`, ...ino(firstDir, 0) })}\n`;
    bufB += `${JSON.stringify({ ...firstDir, path: `r${k}`, ...ino(firstDir, 1) })}\n`;
    n.a++;
    n.b++;
    for (const e of records) {
      const c: Record<string, unknown> = { ...e, path: `r${k}/${String(e.path)}` };
      const lineA = `${JSON.stringify({ ...c, ...ino(e, 0) })}\n`;
      const lineB = `${JSON.stringify({ ...c, ...ino(e, 1) })}\n`;
      const slot = e.type === 'file' ? files++ % 400 : -1;
      if (slot === 11) {
        bufA += lineA;
        bufB += `${JSON.stringify({ ...c, ...ino(e, 1), size: Number(c.size) + 7, mtime: later(String(c.mtime), 3600) })}\n`;
        n.differ++;
      } else if (slot === 144) {
        bufA += lineA;
        bufB += `${JSON.stringify({ ...c, ...ino(e, 1), mode: c.mode === '0600' ? '0640' : '0600' })}\n`;
        n.differ++;
      } else if (slot === 266) {
        bufA += lineA;
        n.aOnly++;
      } else if (slot === 388) {
        bufB += lineB;
        n.bOnly++;
      } else {
        bufA += lineA;
        bufB += lineB;
      }
      if (slot !== 388) n.a++;
      if (slot !== 266) n.b++;
      flush(false);
    }
  }
  bufA += '{"cairn":"end"}\n';
  bufB += '{"cairn":"end"}\n';
  flush(true);
  fs.closeSync(fa);
  fs.closeSync(fb);
  const expect = `a ${n.a} b ${n.b} differ ${n.differ} a-only ${n.aOnly} b-only ${n.bOnly}`;
  fs.writeFileSync(path.join(tmp, 'expect.txt'), `${expect}\n`);
  fs.renameSync(tmp, dir);
  process.stdout.write(`${expect}\n`);
}

/**
 * A catalog of `copies` volumes for the archive-plan bench: volume k holds
 * copy k of the scan (under rk/), with hashes; and a source stream of all
 * copies in which 1% of the files changed (new size, time and hash), 0.5%
 * are gone and 0.5% are new. Writes DIR/cat/vol-000K.ndjson, DIR/source.ndjson
 * and DIR/expect.txt (the objects the plan must store and the tombstones).
 */
async function catalog(scan: string, dir: string, copies: number): Promise<void> {
  const lines: string[] = [];
  const rl = readline.createInterface({ input: fs.createReadStream(scan), crlfDelay: Infinity });
  for await (const line of rl) lines.push(line);
  const header = JSON.parse(lines.shift()!) as Record<string, unknown>;
  if (lines.pop() !== '{"cairn":"end"}') throw new Error(`${scan}: not a complete entries stream`);
  const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const firstDir = records.find((e) => e.type === 'dir')!;
  const tmp = fresh(dir);
  fs.mkdirSync(path.join(tmp, 'cat'));
  const fakeHash = (seed: string): string => `sha256:${createHash('sha256').update(seed).digest('hex')}`;
  const src = fs.openSync(path.join(tmp, 'source.ndjson'), 'w');
  let bufS = `${JSON.stringify({ ...header, hash: 'sha256' })}\n`;
  let files = 0;
  const n = { store: 0, tombstones: 0, entries: 0 };
  for (let k = 0; k < copies; k++) {
    const vol = fs.openSync(path.join(tmp, 'cat', `vol-${String(k + 1).padStart(4, '0')}.ndjson`), 'w');
    let bufV = `${JSON.stringify({ cairn: 'volume', version: 1, volume: k + 1, created: '2024-01-01T00:00:00.000Z', medium_size: 25025314816, format: 'tar', label: `CAIRN_${String(k + 1).padStart(4, '0')}`, root: header.root, hash: 'sha256', caps: header.caps, discards: [], tool: 'bench/gen' })}\n`;
    const put = (e: Record<string, unknown>): void => {
      const { ino: _i, dev: _d, nlink: _n, ctime: _c, ...body } = e;
      bufV += `${JSON.stringify(body)}\n`;
      n.entries++;
    };
    const dirEntry = { ...firstDir, path: `r${k}` };
    put(dirEntry);
    bufS += `${JSON.stringify(dirEntry)}\n`;
    for (const e of records) {
      const c: Record<string, unknown> = { ...e, path: `r${k}/${String(e.path)}` };
      if (c.type === 'file' && c.hash === undefined) c.hash = fakeHash(String(c.path));
      put(c);
      const slot = e.type === 'file' ? files++ % 200 : -1;
      if (slot === 17 || slot === 117) {
        bufS += `${JSON.stringify({ ...c, size: Number(c.size) + 7, mtime: later(String(c.mtime), 60), hash: fakeHash(`changed ${String(c.path)}`) })}\n`;
        n.store++;
      } else if (slot === 55) {
        n.tombstones++;
      } else bufS += `${JSON.stringify(c)}\n`;
      if (slot === 155) {
        bufS += `${JSON.stringify({ ...c, path: `${String(c.path)}~new`, hash: fakeHash(`new ${String(c.path)}`) })}\n`;
        n.store++;
      }
      if (bufV.length > 1 << 20) (fs.writeSync(vol, bufV), (bufV = ''));
      if (bufS.length > 1 << 20) (fs.writeSync(src, bufS), (bufS = ''));
    }
    fs.writeSync(vol, `${bufV}{"cairn":"end"}\n`);
    fs.closeSync(vol);
  }
  fs.writeSync(src, `${bufS}{"cairn":"end"}\n`);
  fs.closeSync(src);
  const expect = `entries ${n.entries} store ${n.store} tombstones ${n.tombstones}`;
  fs.writeFileSync(path.join(tmp, 'expect.txt'), `${expect}\n`);
  fs.renameSync(tmp, dir);
  process.stdout.write(`${expect}\n`);
}

async function main(argv: string[]): Promise<void> {
  const [what, a, b, c, d] = argv;
  const num = (s: string | undefined, name: string): number => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${what}: ${name} must be a positive integer`);
    return n;
  };
  if (what === 'tree' && a) tree(a);
  else if (what === 'flat' && a) flat(a, num(b, 'N'));
  else if (what === 'deep' && a) deep(a, num(b, 'C'), num(c, 'L'), num(d, 'K'));
  else if (what === 'big' && a) big(a, num(b, 'N'), num(c, 'MIB'));
  else if (what === 'files' && a) files(a, num(b, 'D'), num(c, 'F'), num(d, 'KB'));
  else if (what === 'fixture' && a && b) await fixture(a, b, num(c, 'N'));
  else if (what === 'pair' && a && b) await pair(a, b, num(c, 'N'));
  else if (what === 'catalog' && a && b) await catalog(a, b, num(c, 'N'));
  else throw new Error('usage: gen.js tree DIR | flat DIR N | deep DIR C L K | big DIR N MIB | fixture SCAN OUT N | pair SCAN DIR N | catalog SCAN DIR N');
}

main(process.argv.slice(2)).catch((err: Error) => {
  process.stderr.write(`bench/gen: ${err.message}\n`);
  process.exit(1);
});
