// cairn-graft end to end: real cairn-scan | cairn-plan --archive | cairn-graft,
// then the images built by the real tools (xorriso -as mkisofs, genisoimage)
// from the list, extracted again (osirrox, bsdtar) and compared with the
// source and with the descriptor the image carries in .cairn/.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  ISO_TOOLS, buildIso, checkVolume, contentOf, dirState, extractIso, mkisofs, partKey, rawOf, rawSnapshot, readDescriptor,
  sha256, show, sorted, type IsoObj, type IsoTool,
} from '../helpers/iso';
import { prng } from '../helpers/prng';
import { BIN, records, tempDir, testNeeding } from '../helpers/run';
import { setTime } from '../helpers/tree';

/** Checked against other tools: skipped, saying which, where one is missing. */
const test = testNeeding('xorriso', 'genisoimage', 'osirrox', 'bsdtar', 'jq');

interface Ran {
  code: number | null;
  stderr: string;
}

/** Runs bin/<cmd> with stdout into `out` (raw bytes: lists may hold names that are not UTF-8). */
function cairnTo(cmd: string, args: string[], out: string): Ran {
  const fd = fs.openSync(out, 'w');
  try {
    const r = spawnSync(path.join(BIN, cmd), args, { stdio: ['ignore', fd, 'pipe'], encoding: 'utf8' });
    if (r.error) throw r.error;
    return { code: r.status, stderr: r.stderr };
  } finally {
    fs.closeSync(fd);
  }
}

/** `cairn-scan --hash sha256 ROOT > FILE`, which must succeed quietly. */
function scan(root: string, file: string): void {
  const r = cairnTo('cairn-scan', ['--hash', 'sha256', root], file);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
}

interface VolumeInfo {
  volume: number;
  label: string;
  bytes: number;
  files: number;
}

interface Plan {
  file: string;
  text: string;
  archive: { catalog: string; medium_size: number; format: string; volumes: VolumeInfo[] };
  actions: Record<string, unknown>[];
  stderr: string;
}

/** `cairn-plan --archive --catalog CAT --medium-size SIZE [extra] SCAN > FILE`. */
function planArchive(scanFile: string, catalog: string, size: string, file: string, extra: string[] = []): Plan {
  const r = cairnTo('cairn-plan', ['--archive', '--catalog', catalog, '--medium-size', size, ...extra, scanFile], file);
  assert.equal(r.code, 0, r.stderr);
  const text = fs.readFileSync(file, 'utf8');
  const recs = records(text);
  const header = recs[0] as { archive: Plan['archive'] };
  assert.equal(header.archive.format, 'iso', 'iso is the default format');
  return { file, text, archive: header.archive, actions: recs.slice(1, -1), stderr: r.stderr };
}

/** The plan of one volume of a multi-volume plan (as `jq` would cut it): header with that volume, its actions, the end. */
function onlyVolume(p: Plan, volume: number, file: string): string {
  const lines = p.text.slice(0, -1).split('\n');
  const head = JSON.parse(lines[0]!) as { archive: { volumes: VolumeInfo[] } };
  head.archive.volumes = head.archive.volumes.filter((v) => v.volume === volume);
  const body = lines.slice(1, -1).filter((l) => (JSON.parse(l) as { volume: number }).volume === volume);
  fs.writeFileSync(file, [JSON.stringify(head), ...body, lines[lines.length - 1]].join('\n') + '\n');
  return file;
}

/** `cairn-graft --format TOOL [--spool DIR] PLAN > LIST`. */
function graft(plan: string, tool: IsoTool, list: string, spool?: string): Ran {
  return cairnTo('cairn-graft', ['--format', tool, ...(spool !== undefined ? ['--spool', spool] : []), plan], list);
}

function graftOk(plan: string, tool: IsoTool, list: string, spool?: string): Buffer {
  const r = graft(plan, tool, list, spool);
  assert.equal(r.code, 0, `cairn-graft --format ${tool}: ${r.stderr}`);
  assert.equal(r.stderr, '');
  return fs.readFileSync(list);
}

/** A path under root from raw name bytes. */
const under = (root: string, rel: string | Buffer): Buffer => Buffer.concat([Buffer.from(`${root}/`), Buffer.isBuffer(rel) ? rel : Buffer.from(rel)]);

function writeFile(root: string, rel: string | Buffer, data: string | Buffer, mode = 0o644): void {
  const p = under(root, rel);
  fs.mkdirSync(rawDirname(p), { recursive: true });
  fs.writeFileSync(p, data, { mode });
  fs.chmodSync(p, mode);
}

function rawDirname(p: Buffer): Buffer {
  return p.subarray(0, p.lastIndexOf(0x2f));
}

/** The list the spec prescribes for xorriso: `\` and `=` backslash-escaped on both sides. */
function esc(b: Buffer): Buffer {
  return Buffer.from(b.toString('latin1').replace(/[\\=]/g, '\\$&'), 'latin1');
}

/**
 * The graft-points list of volume 1 (no earlier descriptors, no parts) as
 * the spec describes it: the descriptor, then files and symlinks
 * `path=ROOT/path`, empty directories `path=EMPTY` (a directory is implied
 * by what is grafted under it), in plan order.
 */
function expectedList(p: Plan, root: string, emptyDir: string): Buffer {
  const lines: Buffer[] = [Buffer.concat([Buffer.from('.cairn/vol-0001.ndjson='), esc(Buffer.from(path.join(p.archive.catalog, 'vol-0001.ndjson'))), Buffer.from('\n')])];
  // fifos and devices are in the descriptor only: they neither go in the list nor make their directory non-empty
  const stores = (p.actions as { op: string; path: string; path_b64?: string; src: { type: string } }[])
    .filter((a) => a.op === 'store' && ['file', 'symlink', 'dir'].includes(a.src.type));
  const raw = (a: { path: string; path_b64?: string }): Buffer => (a.path_b64 !== undefined ? Buffer.from(a.path_b64, 'base64') : Buffer.from(a.path));
  stores.forEach((a, i) => {
    const dest = raw(a);
    if (a.src.type === 'dir') {
      const next = stores[i + 1];
      const inside = next !== undefined && raw(next).subarray(0, dest.length + 1).equals(Buffer.concat([dest, Buffer.from('/')]));
      if (!inside) lines.push(Buffer.concat([esc(dest), Buffer.from('='), esc(Buffer.from(emptyDir)), Buffer.from('\n')]));
    } else {
      lines.push(Buffer.concat([esc(dest), Buffer.from('='), esc(under(root, dest)), Buffer.from('\n')]));
    }
  });
  return Buffer.concat(lines);
}

/** What a medium must give back of a source tree: files (content, mode), symlinks, dirs. */
function sourceContent(root: string, withMode = true): [string, IsoObj][] {
  return sorted(contentOf(rawSnapshot(root), withMode));
}

// ---------------------------------------------------------------------------
// 1. Odd names

const NFC: string = 'caf\u00e9';
const NFD: string = 'cafe\u0301';

/** A tree of names that need care in a graft-points list, that both tools can carry. */
function oddTree(root: string, rawNames: boolean): void {
  fs.mkdirSync(root, { recursive: true });
  let n = 0;
  const f = (rel: string | Buffer, mode = 0o644): void => writeFile(root, rel, `content ${n++} of ${Buffer.from(rel).toString('hex')}\n`, mode);
  for (const name of ['=', 'a=b', '=start', 'end=', '==', 'a\\=b', 'a\\\\=b', 'back\\slash', '\\lead', '\\=\\=x', ' lead', 'trail ', '   ', ' = ',
    '#hash', '-dash', '*', '?x', '[ab]', 't\tab', 'c\rr', '\x01ctl', `it's "q" $HOME`, NFC, NFD, 'n'.repeat(200), '\u00e9'.repeat(100)]) {
    f(name);
  }
  f(`${NFC}-dir/in-nfc`);
  f(`${NFD}-dir/in-nfd`);
  f(`${'d'.repeat(200)}/${'f'.repeat(200)}`);
  f('x\\/in'); // a directory whose name ends in a backslash, implied by its file
  f('e=q/a=b/c\\d');
  let deep = '';
  for (let i = 1; i <= 30; i++) deep += `level-${String(i).padStart(2, '0')}-${'x'.repeat(40)}/`;
  f(`${deep}deep=file`);
  f('exec', 0o755);
  f('secret', 0o600);
  setTime(under(root, 'secret').toString(), '2001-02-03 04:05:06.987654321');
  for (const d of ['empty', 'em=pty', ' spaced empty ', 'nested/empty\\in']) fs.mkdirSync(under(root, d), { recursive: true });
  fs.symlinkSync('a=b', under(root, 'link'));
  fs.symlinkSync('x\\', under(root, 'dlink=\\x'));
  fs.symlinkSync('/nonexistent/=\\', under(root, 'dangling'));
  fs.symlinkSync('a\nb', under(root, 'nl-target')); // the target is not in the list: fine
  execFileSync('mkfifo', [under(root, 'fifo=').toString()]);
  if (rawNames) {
    // names that are not UTF-8 (genisoimage -J refuses most of them: see the next test)
    f(Buffer.from([0xe9, 0x74, 0xe9, 0x3d]));
    f(Buffer.from([0x72, 0x61, 0x77, 0xff, 0x5c, 0x2f, 0x69, 0x6e])); // directory `raw<ff>\` (a backslash at its end) holding `in`
  }
}

for (const tool of ISO_TOOLS) {
  test(`odd names through --format ${tool}: the ${tool} image gives back the tree byte for byte, as its descriptor records it`, () => {
    const base = tempDir();
    const root = path.join(base, 'sr=c\\ root');
    const catalog = path.join(base, 'c=at\\');
    fs.mkdirSync(catalog);
    oddTree(root, tool === 'xorriso');
    // the names really are what they should be (NFC and NFD both present, 200 bytes long)
    const names = fs.readdirSync(root);
    assert.ok(names.includes(NFC) && names.includes(NFD) && NFC !== NFD);
    assert.equal(Buffer.byteLength('\u00e9'.repeat(100)), 200);
    scan(root, path.join(base, 'scan'));
    const p = planArchive(path.join(base, 'scan'), catalog, '50M', path.join(base, 'plan'));
    assert.equal(p.stderr, '');
    assert.equal(p.archive.volumes.length, 1);
    const list = graftOk(p.file, tool, path.join(base, 'list'));
    if (tool === 'xorriso') assert.equal(list.toString('latin1'), expectedList(p, root, path.join(catalog, '.cairn-empty')).toString('latin1'));
    assert.ok(fs.existsSync(path.join(catalog, 'vol-0001.ndjson')), 'the descriptor is in the catalog');

    const iso = path.join(base, 'v.iso');
    const size = buildIso(tool, path.join(base, 'list'), iso);
    assert.ok(size <= p.archive.volumes[0]!.bytes, `image of ${size} bytes, planned ${p.archive.volumes[0]!.bytes}`);
    const want = sourceContent(root);
    for (const via of ['osirrox', 'bsdtar'] as const) {
      const out = path.join(base, `out-${via}`);
      extractIso(iso, out, via);
      const objects = checkVolume(out, catalog, 1);
      assert.deepEqual(sorted(contentOf(objects)), want, `${via}: the image holds the source exactly`);
    }
    // the fifo is in the descriptor only
    const d = readDescriptor(path.join(catalog, 'vol-0001.ndjson'));
    assert.deepEqual(d.records.filter((r) => r.type === 'fifo').map((r) => r.path), ['fifo=']);
    assert.equal(d.records.filter((r) => r.type === 'file').length, [...rawSnapshot(root).values()].filter((o) => o.type === 'file').length);

    // everything is archived: the next plan has no volume (and the catalog's .cairn-empty does not disturb it)
    const again = planArchive(path.join(base, 'scan'), catalog, '50M', path.join(base, 'plan2'));
    assert.deepEqual(again.archive.volumes, []);
    assert.deepEqual(again.actions, []);
  });
}

/**
 * Names one tool's list format cannot carry (as far as the tools go today):
 * cairn-graft must either find a form the tool takes (the image is right) or
 * refuse the name up front: exit 2, one line, nothing in the catalog. A name
 * the tool can carry must never be refused.
 */
test('names at the edge of each tool: grafted right, or refused with exit 2 before the catalog changes', () => {
  interface Case {
    what: string;
    make: (root: string) => void;
    /** the tool that cannot take the name in the list cairn-graft writes today */
    hard: IsoTool[];
    /** how a refusal names it */
    names?: RegExp;
  }
  const cases: Case[] = [
    { what: 'a file named \\', make: (r) => writeFile(r, '\\', 'b'), hard: ['genisoimage'], names: /^cairn-graft: \\: / },
    { what: 'a file name ending in \\', make: (r) => writeFile(r, 'sub/end\\', 'e'), hard: ['genisoimage'], names: /^cairn-graft: sub\/end\\: / },
    { what: 'an empty directory ending in \\', make: (r) => fs.mkdirSync(under(r, 'e\\')), hard: ['genisoimage'], names: /^cairn-graft: e\\: / },
    { what: 'a symlink name ending in \\', make: (r) => fs.symlinkSync('ok', under(r, 'sym\\')), hard: ['genisoimage'], names: /^cairn-graft: sym\\: / },
    { what: 'a name ending in a carriage return', make: (r) => writeFile(r, 'cr\r', 'r'), hard: ['xorriso'], names: /^cairn-graft: cr\\r: / },
    { what: 'a name that is not UTF-8', make: (r) => writeFile(r, Buffer.from([0xe9, 0x74, 0xe9]), 'l'), hard: ['genisoimage'] },
  ];
  const problems: string[] = [];
  const top = tempDir();
  cases.forEach((c, i) => {
    const base = path.join(top, `case-${i}`);
    const root = path.join(base, 'src');
    writeFile(root, 'ok', 'ok\n');
    c.make(root);
    scan(root, path.join(base, 'scan'));
    for (const tool of ISO_TOOLS) {
      const catalog = path.join(base, `cat-${tool}`);
      fs.mkdirSync(catalog);
      const p = planArchive(path.join(base, 'scan'), catalog, '50M', path.join(base, `plan-${tool}`));
      const list = path.join(base, `list-${tool}`);
      const before = dirState(catalog);
      const r = graft(p.file, tool, list);
      const label = `case ${i} (${c.what}), --format ${tool}`;
      if (r.code === 2 && c.hard.includes(tool)) {
        if (!/^cairn-graft: [^\n]+\n$/.test(r.stderr) || (c.names !== undefined && !c.names.test(r.stderr))) {
          problems.push(`${label}: the refusal should be one line naming it, got ${JSON.stringify(r.stderr)}`);
        }
        if (fs.statSync(list).size !== 0) problems.push(`${label}: refused but printed a list`);
        if (JSON.stringify(dirState(catalog)) !== JSON.stringify(before)) problems.push(`${label}: refused but the catalog changed: ${dirState(catalog).join(', ')}`);
        continue;
      }
      if (r.code !== 0) {
        problems.push(`${label}: cairn-graft exit ${r.code} for a name ${tool} can carry: ${r.stderr.trim()}`);
        continue;
      }
      const iso = path.join(base, `v-${tool}.iso`);
      const b = mkisofs(tool, list, ['-o', iso]);
      if (b.code !== 0) {
        problems.push(`${label}: cairn-graft exit 0 (descriptor committed) but ${tool} refuses its list (exit ${b.code}): ` +
          b.stderr.split('\n').filter((l) => /fail|invalid|abort|error|incorrect/i.test(l)).join(' | '));
        continue;
      }
      const out = path.join(base, `out-${tool}`);
      extractIso(iso, out, 'osirrox');
      try {
        assert.deepEqual(sorted(contentOf(checkVolume(out, catalog, 1))), sourceContent(root));
      } catch (err) {
        problems.push(`${label}: the image is wrong: ${(err as Error).message.split('\n')[0]}`);
      }
    }
  });
  assert.deepEqual(problems, []);
});

// ---------------------------------------------------------------------------
// 2. Newlines

test('a name with a newline: exit 2 with one line naming it, no list, catalog and spool unchanged (both formats)', () => {
  const base = tempDir();
  const root = path.join(base, 'src');
  writeFile(root, 'a=ok', 'ok');
  fs.mkdirSync(path.join(root, 'a-empty')); // an empty directory listed before the bad name
  writeFile(root, 'sub/new\nline', 'nl');
  scan(root, path.join(base, 'scan'));
  for (const tool of ISO_TOOLS) {
    for (const spool of [undefined, path.join(base, `spool-${tool}`)]) {
      const catalog = path.join(base, `cat-${tool}-${spool === undefined ? 'nospool' : 'spool'}`);
      fs.mkdirSync(catalog);
      if (spool !== undefined) fs.mkdirSync(spool);
      const p = planArchive(path.join(base, 'scan'), catalog, '50M', path.join(base, 'plan'));
      assert.ok(p.actions.some((a) => a.path === 'sub/new\nline'));
      const before = [dirState(catalog), spool !== undefined ? dirState(spool) : []];
      const r = graft(p.file, tool, path.join(base, 'list'), spool);
      assert.equal(r.code, 2, `--format ${tool}`);
      assert.match(r.stderr, /^cairn-graft: sub\/new\\nline: [^\n]*newline[^\n]*\n$/);
      assert.equal(fs.readFileSync(path.join(base, 'list'), 'utf8'), '');
      assert.deepEqual([dirState(catalog), spool !== undefined ? dirState(spool) : []], before, `--format ${tool}${spool ? ' --spool' : ''}: nothing changed`);
    }
  }
});

// ---------------------------------------------------------------------------
// 3. Every volume fits its medium

/** 500 small files (0-3000 bytes) under nested directories with long names, a few empty dirs and symlinks, and a few larger files. */
function manyFiles(root: string, big: number[]): void {
  const rnd = prng(20240613);
  const dirs = [''];
  for (let i = 0; i < 40; i++) {
    const parent = dirs[Math.floor(rnd() * dirs.length)]!;
    if (parent.split('/').length > 4) continue;
    dirs.push(`${parent}${parent ? '/' : ''}dir-${i}-${'long directory name '.slice(0, Math.floor(rnd() * 20))}${'y'.repeat(Math.floor(rnd() * 80))}`);
  }
  for (let i = 0; i < 500; i++) {
    const dir = dirs[Math.floor(rnd() * dirs.length)]!;
    const name = `file ${i}${rnd() < 0.1 ? ' =\\ odd' : ''} ${'long name '.repeat(Math.floor(rnd() * 15))}.dat`;
    const data = Buffer.alloc(Math.floor(rnd() * 3001));
    for (let j = 0; j < data.length; j++) data[j] = Math.floor(rnd() * 256);
    writeFile(root, `${dir}${dir ? '/' : ''}${name}`, data);
  }
  for (let i = 0; i < 3; i++) fs.mkdirSync(path.join(root, `empty-${i}`, 'inner'), { recursive: true });
  fs.symlinkSync('empty-0', path.join(root, 'to-empty'));
  fs.symlinkSync('../file', path.join(root, 'up=link'));
  big.forEach((size, i) => {
    const data = Buffer.alloc(size);
    for (let j = 0; j < size; j += 4) data.writeUInt32LE(Math.floor(rnd() * 4294967296), j);
    writeFile(root, `big-${i}.bin`, data);
  });
}

/** Objects of all volumes together; parts (in order, without gaps) joined again. */
function union(volumes: { objects: Map<string, IsoObj>; dir: string }[]): [string, IsoObj][] {
  const all = new Map<string, IsoObj>();
  const parts = new Map<string, { offset: number; file: Buffer }[]>();
  for (const v of volumes) {
    for (const [k, o] of v.objects) {
      const m = /^(.*)\.cairn-part-(\d{15})$/s.exec(k);
      if (m !== null && o.type === 'file') {
        const list = parts.get(m[1]!) ?? [];
        list.push({ offset: Number(m[2]), file: under(v.dir, rawOf(k)) });
        parts.set(m[1]!, list);
        continue;
      }
      const had = all.get(k);
      if (had !== undefined) assert.ok(had.type === 'dir' && o.type === 'dir', `${show(k)} is on two volumes`);
      all.set(k, o.type === 'file' ? { type: 'file', size: o.size, hash: o.hash } : o);
    }
  }
  for (const [k, list] of parts) {
    list.sort((a, b) => a.offset - b.offset);
    const datas = list.map((p) => fs.readFileSync(p.file));
    let at = 0;
    list.forEach((p, i) => {
      assert.equal(p.offset, at, `${show(k)}: part at ${p.offset}, expected ${at}`);
      at += datas[i]!.length;
    });
    const whole = Buffer.concat(datas);
    assert.ok(!all.has(k), `${show(k)} is both whole and in parts`);
    all.set(k, { type: 'file', size: whole.length, hash: sha256(whole) });
  }
  return sorted(all);
}

test('every volume of a 2M and a 5M plan (--volumes 10) fits its medium with either tool; together they hold the tree', () => {
  const base = tempDir();
  const root = path.join(base, 'src');
  manyFiles(root, [1_200_000, 2_500_000, 3_600_000]);
  scan(root, path.join(base, 'scan'));
  const want = sourceContent(root, false);
  for (const size of ['2M', '5M']) {
    const medium = size === '2M' ? 2_000_000 : 5_000_000;
    for (const tool of ISO_TOOLS) {
      const tag = `${size}-${tool}`;
      const catalog = path.join(base, `cat-${tag}`);
      const spool = path.join(base, `spool=${tag}`);
      fs.mkdirSync(catalog);
      const p = planArchive(path.join(base, 'scan'), catalog, size, path.join(base, `plan-${tag}`), ['--volumes', '10']);
      assert.equal(p.stderr, '', 'nothing waits');
      assert.equal(p.archive.medium_size, medium);
      assert.equal(p.actions.some((a) => a.part !== undefined), size === '2M', 'the larger files are split on 2M media only');
      assert.ok(p.archive.volumes.length >= (size === '2M' ? 5 : 2), `${tag}: ${p.archive.volumes.length} volumes`);
      assert.deepEqual(p.archive.volumes.map((v) => v.volume), p.archive.volumes.map((_, i) => i + 1));
      const volumes: { objects: Map<string, IsoObj>; dir: string }[] = [];
      for (const v of p.archive.volumes) {
        assert.ok(v.bytes <= medium, `${tag}: volume ${v.volume} planned at ${v.bytes} bytes`);
        const one = onlyVolume(p, v.volume, path.join(base, `plan-${tag}-${v.volume}`));
        const list = path.join(base, `list-${tag}-${v.volume}`);
        graftOk(one, tool, list, spool);
        const iso = path.join(base, `${tag}-${v.volume}.iso`);
        const bytes = buildIso(tool, list, iso);
        assert.ok(bytes <= v.bytes, `${tag}: volume ${v.volume}: ${tool} made ${bytes} bytes, planned ${v.bytes}`);
        const out = path.join(base, `out-${tag}-${v.volume}`);
        extractIso(iso, out, 'osirrox');
        volumes.push({ objects: checkVolume(out, catalog, v.volume), dir: out });
        fs.rmSync(iso);
      }
      assert.deepEqual(union(volumes), want, `${tag}: the volumes together`);
      const again = planArchive(path.join(base, 'scan'), catalog, size, path.join(base, `plan-${tag}-again`));
      assert.deepEqual(again.archive.volumes, [], `${tag}: all archived`);
    }
  }
});

test('a plan of several volumes is refused whole (exit 2, one line, nothing changed): cairn-graft writes one volume per run', () => {
  const base = tempDir();
  const root = path.join(base, 'src');
  for (let i = 0; i < 3; i++) writeFile(root, `f${i}`, Buffer.alloc(900_000, i));
  scan(root, path.join(base, 'scan'));
  const catalog = path.join(base, 'cat');
  fs.mkdirSync(catalog);
  const p = planArchive(path.join(base, 'scan'), catalog, '1M', path.join(base, 'plan'), ['--volumes', '10']);
  const n = p.archive.volumes.length;
  assert.ok(n > 1, `${n} volumes`);
  for (const tool of ISO_TOOLS) {
    const r = graft(p.file, tool, path.join(base, 'list'), path.join(base, 'spool'));
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`^cairn-graft: [^\\n]*${n} volumes[^\\n]*\\n$`));
    assert.doesNotMatch(r.stderr, /%d|\.tar/, 'cairn-graft has no output name or pattern to suggest');
    assert.equal(fs.readFileSync(path.join(base, 'list'), 'utf8'), '');
    assert.deepEqual(fs.readdirSync(catalog), []);
    assert.equal(fs.existsSync(path.join(base, 'spool')), false, 'nothing cut into the spool');
  }
});

test('a file larger than the medium: its parts need --spool (else exit 2, nothing changed); the images hold NAME.cairn-part-OFFSET that join to the file', () => {
  const base = tempDir();
  const root = path.join(base, 'src');
  const data = Buffer.alloc(7_000_000);
  const rnd = prng(7);
  for (let j = 0; j < data.length; j += 4) data.writeUInt32LE(Math.floor(rnd() * 4294967296), j);
  writeFile(root, 'dir=x/big=file\\.bin', data);
  writeFile(root, 'small', 'small\n');
  scan(root, path.join(base, 'scan'));

  // the whole plan: 3 volumes, the parts cover the file in sectors
  fs.mkdirSync(path.join(base, 'cat-all'));
  const all = planArchive(path.join(base, 'scan'), path.join(base, 'cat-all'), '3M', path.join(base, 'plan-all'), ['--volumes', '10']);
  assert.equal(all.archive.volumes.length, 3);
  const parts = all.actions.filter((a) => a.part !== undefined).map((a) => a.part as { offset: number; size: number });
  assert.equal(parts.length, 3);
  assert.deepEqual(parts.map((x) => x.offset), [0, parts[0]!.size, parts[0]!.size + parts[1]!.size]);
  assert.equal(parts.reduce((s, x) => s + x.size, 0), data.length);
  assert.ok(parts.slice(0, -1).every((x) => x.size % 2048 === 0));

  for (const tool of ISO_TOOLS) {
    const catalog = path.join(base, `cat-${tool}`);
    const spool = path.join(base, `sp=ool\\${tool}`);
    fs.mkdirSync(catalog);
    const volumes: { objects: Map<string, IsoObj>; dir: string }[] = [];
    // the usual round: plan one volume, graft it, burn it; again until nothing waits
    for (let v = 1; ; v++) {
      assert.ok(v <= 4, 'three volumes are enough');
      const p = planArchive(path.join(base, 'scan'), catalog, '3M', path.join(base, `plan-${tool}-${v}`));
      if (p.archive.volumes.length === 0) break;
      assert.equal(p.archive.volumes[0]!.volume, v);
      const list = path.join(base, `list-${tool}-${v}`);
      if (v === 1) {
        const before = dirState(catalog);
        const r = graft(p.file, tool, list);
        assert.equal(r.code, 2);
        assert.match(r.stderr, /^cairn-graft: dir=x\/big=file\\\.bin: [^\n]*--spool[^\n]*\n$/);
        assert.equal(fs.readFileSync(list, 'utf8'), '');
        assert.deepEqual(dirState(catalog), before);
      }
      const text = graftOk(p.file, tool, list, spool).toString();
      const partLines = text.split('\n').filter((l) => l.includes('.cairn-part-'));
      assert.equal(partLines.length, 1);
      const offset = (p.actions.find((a) => a.part !== undefined)!.part as { offset: number }).offset;
      const prefix = `dir\\=x/big\\=file\\\\.bin.cairn-part-${String(offset).padStart(15, '0')}=${esc(Buffer.from(path.join(spool, `vol-000${v}`))).toString()}/`;
      assert.ok(partLines[0]!.startsWith(prefix), `${partLines[0]} starts with ${prefix}`);
      const iso = path.join(base, `${tool}-${v}.iso`);
      const bytes = buildIso(tool, list, iso);
      assert.ok(bytes <= p.archive.volumes[0]!.bytes && p.archive.volumes[0]!.bytes <= 3_000_000, `volume ${v}: ${bytes} bytes, planned ${p.archive.volumes[0]!.bytes}`);
      const out = path.join(base, `out-${tool}-${v}`);
      extractIso(iso, out, tool === 'xorriso' ? 'osirrox' : 'bsdtar');
      const objects = checkVolume(out, catalog, v);
      assert.ok(objects.has(partKey('dir=x/big=file\\.bin', offset)));
      volumes.push({ objects, dir: out });
    }
    assert.equal(volumes.length, 3);
    // `cat NAME.cairn-part-* > NAME` rejoins the file
    const joined = path.join(base, `joined-${tool}`);
    const members = volumes.map((v, i) => [...v.objects.keys()].filter((k) => k.includes('.cairn-part-')).map((k) => ({ k, file: path.join(volumes[i]!.dir, k) }))).flat();
    members.sort((a, b) => (a.k < b.k ? -1 : 1));
    fs.writeFileSync(joined, Buffer.concat(members.map((m) => fs.readFileSync(m.file))));
    assert.ok(fs.readFileSync(joined).equals(data), `${tool}: the parts join to the source`);
    assert.deepEqual(union(volumes), sourceContent(root, false));
  }
});

// ---------------------------------------------------------------------------
// 4. Files of 4 GiB and more

test('a file of 4.5 GiB: --format genisoimage refuses it (exit 2, nothing changed); xorriso -iso-level 3 takes the list within the planned size', (t) => {
  const base = tempDir();
  const root = path.join(base, 'src');
  fs.mkdirSync(root);
  const huge = path.join(root, 'huge=4.5G');
  execFileSync('truncate', ['-s', '4608M', huge]);
  if (fs.statSync(huge).blocks > 2048) {
    t.skip('no sparse files here');
    return;
  }
  writeFile(root, 'small', 'small\n');
  // Reading 4.5 GiB of holes costs 6-20 s: the entries carry the hash that
  // `cairn-scan --hash sha256` computes for it (checked once by hand), so
  // nothing reads the file (cairn-graft lists whole files unread).
  const entries = records(execFileSync(path.join(BIN, 'cairn-scan'), [root], { encoding: 'utf8' }));
  entries[0]!.hash = 'sha256';
  const zeros = 'sha256:4a106567656aef43130523c2c13d109f772dd3cd4e5330e9c589e387b347a7dd'; // sha256 of 4.5 GiB of zero bytes
  for (const e of entries.slice(1)) if (e.path === 'huge=4.5G') e.hash = zeros;
  fs.writeFileSync(path.join(base, 'scan'), entries.map((e) => JSON.stringify(e)).join('\n') + '\n');
  for (const tool of ['genisoimage', 'xorriso'] as const) {
    const catalog = path.join(base, `cat-${tool}`);
    fs.mkdirSync(catalog);
    const p = planArchive(path.join(base, 'scan'), catalog, '5G', path.join(base, `plan-${tool}`));
    assert.equal(p.archive.volumes.length, 1);
    const store = p.actions.find((a) => a.path === 'huge=4.5G') as { src: { size: number; hash: string }; part?: unknown };
    assert.equal(store.part, undefined, 'stored whole');
    assert.equal(store.src.size, 4608 * 1024 * 1024);
    assert.equal(store.src.hash, zeros);
    const list = path.join(base, `list-${tool}`);
    if (tool === 'genisoimage') {
      const r = graft(p.file, tool, list);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /^cairn-graft: huge=4\.5G: [^\n]*4 GiB[^\n]*--format xorriso[^\n]*\n$/);
      assert.equal(fs.readFileSync(list, 'utf8'), '');
      assert.deepEqual(fs.readdirSync(catalog), []);
      continue;
    }
    const text = graftOk(p.file, tool, list).toString();
    assert.equal(text, `.cairn/vol-0001.ndjson=${esc(Buffer.from(path.join(catalog, 'vol-0001.ndjson')))}\n` +
      `huge\\=4.5G=${esc(Buffer.from(huge))}\nsmall=${path.join(root, 'small')}\n`);
    const huge1 = readDescriptor(path.join(catalog, 'vol-0001.ndjson')).records.find((r) => r.path === 'huge=4.5G')!;
    assert.deepEqual([huge1.type, huge1.size, huge1.hash, huge1.part], ['file', 4608 * 1024 * 1024, zeros, undefined]);
    const r = mkisofs('xorriso', list, ['-print-size']);
    assert.equal(r.code, 0, r.stderr);
    const sectors = Number(/^(\d+)\s*$/m.exec(r.stdout)?.[1]);
    assert.ok(sectors > 0, `xorriso -print-size printed ${JSON.stringify(r.stdout)}`);
    assert.ok(sectors * 2048 >= 4608 * 1024 * 1024, `${sectors} sectors hold the file`);
    assert.ok(sectors * 2048 <= p.archive.volumes[0]!.bytes, `${sectors} sectors, planned ${p.archive.volumes[0]!.bytes} bytes`);
    assert.ok(p.archive.volumes[0]!.bytes <= 5_000_000_000);
  }
});

// ---------------------------------------------------------------------------
// Objects that are special on a medium

test('a directory that holds only a fifo is on the medium; the fifo is in the descriptor only', () => {
  const top = tempDir();
  for (const tool of ISO_TOOLS) {
    const base = path.join(top, tool);
    const root = path.join(base, 'src');
    writeFile(root, 'f', 'f\n');
    fs.mkdirSync(path.join(root, 'pipes'));
    execFileSync('mkfifo', [path.join(root, 'pipes', 'p')]);
    scan(root, path.join(base, 'scan'));
    const catalog = path.join(base, 'cat');
    fs.mkdirSync(catalog);
    const p = planArchive(path.join(base, 'scan'), catalog, '50M', path.join(base, 'plan'));
    graftOk(p.file, tool, path.join(base, 'list'));
    buildIso(tool, path.join(base, 'list'), path.join(base, 'v.iso'));
    extractIso(path.join(base, 'v.iso'), path.join(base, 'out'), 'osirrox');
    const objects = checkVolume(path.join(base, 'out'), catalog, 1);
    assert.deepEqual(sorted(contentOf(objects)), sourceContent(root), `--format ${tool}`);
  }
});

test('hard links: both names are on the medium with the same bytes, within the budget', () => {
  const top = tempDir();
  for (const tool of ISO_TOOLS) {
    const base = path.join(top, tool);
    const root = path.join(base, 'src');
    const data = Buffer.alloc(3_000_000);
    const rnd = prng(99);
    for (let j = 0; j < data.length; j += 4) data.writeUInt32LE(Math.floor(rnd() * 4294967296), j);
    writeFile(root, 'h1', data);
    fs.mkdirSync(path.join(root, 'x'));
    fs.linkSync(path.join(root, 'h1'), path.join(root, 'x', 'h=2'));
    scan(root, path.join(base, 'scan'));
    const catalog = path.join(base, 'cat');
    fs.mkdirSync(catalog);
    const p = planArchive(path.join(base, 'scan'), catalog, '50M', path.join(base, 'plan'));
    graftOk(p.file, tool, path.join(base, 'list'));
    const size = buildIso(tool, path.join(base, 'list'), path.join(base, 'v.iso'));
    assert.ok(size <= p.archive.volumes[0]!.bytes);
    extractIso(path.join(base, 'v.iso'), path.join(base, 'out'), 'osirrox');
    const objects = checkVolume(path.join(base, 'out'), catalog, 1);
    assert.deepEqual(sorted(contentOf(objects)), sourceContent(root), `--format ${tool}`);
    assert.deepEqual(readDescriptor(path.join(catalog, 'vol-0001.ndjson')).records.filter((r) => r.type === 'file').map((r) => [r.path, r.hash]),
      [['h1', sha256(data)], ['x/h=2', sha256(data)]]);
  }
});
