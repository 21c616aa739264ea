import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isRoot, tempDir, testNeeding } from '../helpers/run';
import { bash, bytesOf, q } from '../helpers/sync';
import {
  ancestors,
  byPath,
  expectResults,
  linkGroups,
  listAll,
  metaSnapshot,
  only,
  restore,
  restoredOk,
  resultsOf as resultsOfLoose,
  type Precision,
} from '../helpers/restore';

/** Checked against other tools: skipped, saying which, where one is missing. */
const test = testNeeding('bsdtar', 'python3');

/*
 * cairn-restore from tar streams of every common writer: one tree (files,
 * empty and 3 MB ones, directories, symlinks, hard links, names over 100
 * and 255 bytes, Unicode names, modes with special bits, owners, ns
 * mtimes) archived by GNU tar (gnu, oldgnu, ustar, posix), bsdtar
 * (default, pax, ustar, gnutar), cairn-scan | cairn-pack and a cairn-pack
 * volume, plain and gzipped, then restored with the real executable and
 * compared object by object with the source: content, type, symlink
 * target, hard links (one inode), mode, owner (when root) and mtime as
 * exactly as the format carries it.
 */

const TMP = tempDir('cairn-restore-formats-');
const SRC = path.join(TMP, 'src');

interface Obj {
  path: string;
  kind: 'file' | 'dir' | 'symlink' | 'hardlink';
  data?: string | Buffer;
  mode?: number;
  /** symlink target, or the first path of a hard link. */
  target?: string;
  owner?: [number, number];
  /** ustar (GNU tar's and bsdtar's) cannot hold it: name, link name or id too long. */
  noUstar?: true;
}

const P60 = 'p'.repeat(60);
const DEEP = `long/deep/${'x'.repeat(90)}/${'y'.repeat(90)}`;
const NFD = 'cafe\u0301';
/** The tree, in canonical order (parents before children, siblings by bytes). */
const TREE: Obj[] = [
  { path: '.hidden', kind: 'file', data: 'dot file\n', mode: 0o600 },
  { path: 'a.txt', kind: 'file', data: 'alpha\n', mode: 0o644 },
  { path: 'big.bin', kind: 'file', data: bytesOf(3, 3_000_000), mode: 0o644 },
  { path: 'dangling', kind: 'symlink', target: 'no/such/target' },
  { path: 'dir', kind: 'dir', mode: 0o755 },
  { path: 'dir/.dotfile', kind: 'file', data: 'dot in dir\n', mode: 0o644 },
  { path: 'dir/exec.sh', kind: 'file', data: '#!/bin/sh\necho hi\n', mode: 0o755 },
  { path: 'dir/link-up', kind: 'symlink', target: '../a.txt' },
  { path: 'dir/ro.txt', kind: 'file', data: 'read only\n', mode: 0o444 },
  { path: 'dir/setuid', kind: 'file', data: 'set-uid, owned\n', mode: 0o4755, owner: [1234, 5678] },
  { path: 'dir/sub', kind: 'dir', mode: 0o700 },
  { path: 'dir/sub/deep.txt', kind: 'file', data: 'deep\n', mode: 0o644 },
  { path: 'dir/world', kind: 'file', data: 'mode 0666, beyond the umask\n', mode: 0o666 },
  { path: 'dirx.txt', kind: 'file', data: 'beside dir, not in it\n', mode: 0o644 },
  { path: 'emoji 😀.txt', kind: 'file', data: 'emoji\n', mode: 0o644 },
  { path: 'empty', kind: 'file', data: '', mode: 0o644 },
  { path: 'emptydir', kind: 'dir', mode: 0o2750, owner: [4321, 4321] },
  { path: 'hl', kind: 'dir', mode: 0o755 },
  { path: 'hl/a', kind: 'file', data: 'linked three times\n', mode: 0o640, owner: [1234, 5678] },
  { path: 'hl/b', kind: 'hardlink', target: 'hl/a' },
  { path: 'hl/sub', kind: 'dir', mode: 0o755 },
  { path: 'hl/sub/c', kind: 'hardlink', target: 'hl/a' },
  { path: 'link', kind: 'symlink', target: 'a.txt', owner: [1234, 5678] },
  { path: 'long', kind: 'dir', mode: 0o755 },
  { path: 'long/deep', kind: 'dir', mode: 0o755 },
  { path: `long/deep/${'x'.repeat(90)}`, kind: 'dir', mode: 0o755 },
  { path: DEEP, kind: 'dir', mode: 0o755 },
  { path: `${DEEP}/${'z'.repeat(90)}.txt`, kind: 'file', data: 'a path of 286 bytes\n', mode: 0o644, noUstar: true },
  { path: `long/hl-${'h'.repeat(110)}`, kind: 'file', data: 'long hard link\n', mode: 0o644, noUstar: true },
  { path: `long/hl-${'k'.repeat(110)}`, kind: 'hardlink', target: `long/hl-${'h'.repeat(110)}`, noUstar: true },
  { path: `long/${'n'.repeat(200)}`, kind: 'file', data: 'a name of 200 bytes\n', mode: 0o644, noUstar: true },
  { path: `long/${P60}`, kind: 'dir', mode: 0o755 },
  { path: `long/${P60}/${'q'.repeat(60)}.txt`, kind: 'file', data: 'a path of 130 bytes (ustar: prefix + name)\n', mode: 0o644 },
  { path: 'long/symlink-long', kind: 'symlink', target: 't'.repeat(150), noUstar: true },
  { path: 'owned-big', kind: 'file', data: 'uid and gid over ustar\'s 2097151\n', mode: 0o644, owner: [3_000_000, 3_000_001], noUstar: true },
  { path: 'ünïcödé', kind: 'dir', mode: 0o755 },
  { path: `ünïcödé/${NFD}`, kind: 'file', data: 'a decomposed name, kept as it is\n', mode: 0o644 },
  { path: 'ünïcödé/日本語 ファイル.txt', kind: 'file', data: 'Japanese\n', mode: 0o644 },
];

const ALL = TREE.map((o) => o.path);
const USTAR = TREE.filter((o) => !o.noUstar).map((o) => o.path);

/** A time for object i: distinct seconds, ns in the middle of a microsecond (see Precision in helpers/restore). */
function timeOf(i: number): string {
  return `2021-03-04 05:${String(10 + Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}.${String((123457 + i * 7919) % 1_000_000).padStart(6, '0')}500`;
}

function buildTree(): void {
  fs.mkdirSync(SRC);
  for (const o of TREE) {
    const abs = path.join(SRC, o.path);
    if (o.kind === 'dir') fs.mkdirSync(abs);
    else if (o.kind === 'file') fs.writeFileSync(abs, o.data!);
    else if (o.kind === 'symlink') fs.symlinkSync(o.target!, abs);
    else fs.linkSync(path.join(SRC, o.target!), abs);
    if (o.owner && isRoot) fs.lchownSync(abs, o.owner[0], o.owner[1]);
    // after chown, which clears set-uid bits
    if (o.mode !== undefined) fs.chmodSync(abs, o.mode);
  }
  TREE.forEach((o, i) => {
    if (o.kind !== 'hardlink') bash(`touch -h -d ${q(timeOf(i))} ${q(path.join(SRC, o.path))}`);
  });
}
buildTree();

/** The source as an archive of `precision` must restore it, limited to `paths`. */
function expected(paths: string[], precision: Precision | ((rel: string) => Precision)) {
  return only(metaSnapshot(SRC, { precision, side: 'source' }), paths);
}

interface Writer {
  name: string;
  /**
   * How exact the mtimes it writes are; 'per-member': bsdtar's default
   * (restricted pax) writes a pax header, with the ns mtime, only for a
   * member that needs one for something else (a long or non-ASCII name, a
   * big id); the others get the whole seconds of ustar.
   */
  precision: Precision | 'per-member';
  ustar?: true;
  /** Shell command writing the (plain) tar at $OUT from the list of names at $LIST, in $SRC. */
  make: (list: string, out: string) => string;
}

const tarList = (fmt: string) => (list: string, out: string) => `tar --format=${fmt} -C ${q(SRC)} --no-recursion -T ${q(list)} -cf ${q(out)}`;
const bsdList = (fmt: string | undefined) => (list: string, out: string) =>
  `bsdtar ${fmt ? `--format ${fmt} ` : ''}-C ${q(SRC)} -n -T ${q(list)} -cf ${q(out)}`;

const WRITERS: Writer[] = [
  { name: 'GNU tar --format=gnu', precision: 's', make: tarList('gnu') },
  { name: 'GNU tar --format=oldgnu', precision: 's', make: tarList('oldgnu') },
  { name: 'GNU tar --format=ustar', precision: 's', ustar: true, make: tarList('ustar') },
  { name: 'GNU tar --format=posix', precision: 'us', make: tarList('posix') },
  { name: 'bsdtar (default format)', precision: 'per-member', make: bsdList(undefined) },
  { name: 'bsdtar --format pax', precision: 'us', make: bsdList('pax') },
  { name: 'bsdtar --format ustar', precision: 's', ustar: true, make: bsdList('ustar') },
  { name: 'bsdtar --format gnutar', precision: 's', make: bsdList('gnutar') },
  { name: 'cairn-scan | cairn-pack', precision: 'us', make: (_list, out) => `set -o pipefail; cairn-scan ${q(SRC)} | cairn-pack > ${q(out)}` },
  {
    name: 'a cairn-pack volume',
    precision: 'us',
    make: (_list, out) => {
      const cat = `${out}.catalog`;
      return `set -o pipefail; mkdir ${q(cat)} && cairn-scan ${q(SRC)} | cairn-plan --archive --catalog ${q(cat)} --format tar --medium-size 100M | cairn-pack -o ${q(out)}`;
    },
  },
];

const made = new Map<string, string>();
let k = 0;

/** The tar a writer makes of the tree (or its ustar part), made once. */
function tarOf(w: Writer): string {
  const have = made.get(w.name);
  if (have !== undefined) return have;
  const dir = path.join(TMP, `w${++k}`);
  fs.mkdirSync(dir);
  const list = path.join(dir, 'list');
  fs.writeFileSync(list, (w.ustar ? USTAR : ALL).join('\n') + '\n');
  const out = path.join(dir, 'x.tar');
  const r = bash(`export LC_ALL=C.UTF-8; ${w.make(list, out)}`);
  assert.equal(r.code, 0, `${w.name}: ${r.stderr}`);
  assert.equal(r.stderr, '', `${w.name} wrote the tar quietly`);
  const z = bash(`gzip -c ${q(out)} > ${q(out)}.gz`);
  assert.equal(z.code, 0, z.stderr);
  made.set(w.name, out);
  return out;
}

function freshOut(): string {
  const d = path.join(TMP, `out${++k}`);
  fs.mkdirSync(d);
  return d;
}

/**
 * The precision of each member's mtime as the tar holds it, read by
 * Python's tarfile (an independent reader): 'us' where a pax header
 * carries the time, else 's'. A hard link's is its target's (one inode).
 */
function memberPrecision(tar: string): (rel: string) => Precision {
  const r = bash(`python3 -c 'import tarfile,sys,json; print(json.dumps([[m.name, m.linkname if m.islnk() else None, "mtime" in m.pax_headers] for m in tarfile.open(sys.argv[1]).getmembers()]))' ${q(tar)}`);
  assert.equal(r.code, 0, r.stderr);
  const rows = JSON.parse(r.stdout) as [string, string | null, boolean][];
  const exact = new Map(rows.map(([n, , pax]) => [n.replace(/\/$/, ''), pax]));
  const of = new Map(rows.map(([n, link, pax]) => [n.replace(/\/$/, ''), (link !== null ? exact.get(link)! : pax) ? 'us' : 's'] as const));
  // the tree must hold both kinds, or this writer tells nothing new
  assert.deepEqual(new Set(of.values()), new Set(['us', 's']), 'bsdtar wrote some members with pax times, some without');
  return (rel) => of.get(rel)!;
}

function precisionOf(w: Writer): Precision | ((rel: string) => Precision) {
  return w.precision === 'per-member' ? memberPrecision(tarOf(w)) : w.precision;
}

/** The restored tree at `out` is the source's `paths`, with metadata at `precision`, and the same hard links. */
function assertTree(out: string, paths: string[], precision: Precision | ((rel: string) => Precision), what: string): void {
  assert.deepEqual(metaSnapshot(out, { precision, side: 'restored' }), expected(paths, precision), `${what}: the restored tree`);
  const set = new Set(paths);
  assert.deepEqual(linkGroups(out), linkGroups(SRC, set), `${what}: hard links are one inode`);
}

for (const w of WRITERS) {
  test(`${w.name}: restored exactly from stdin (plain) and from --tar (gzip); one result per object`, () => {
    const tar = tarOf(w);
    const paths = w.ustar ? USTAR : ALL;
    if (w.ustar) {
      // the writer left out just what ustar cannot hold
      const names = bash(`LC_ALL=C.UTF-8 tar -tf ${q(tar)}`).stdout.trimEnd().split('\n').map((n) => n.replace(/\/$/, ''));
      assert.deepEqual(names, USTAR);
    }
    for (const [how, args, stdin] of [
      ['plain tar on stdin', [], tar],
      ['gzipped tar by --tar', ['--tar', `${tar}.gz`], undefined],
    ] as const) {
      const out = freshOut();
      const res = restoredOk(restore(['-d', out, ...args], stdin), `${w.name}, ${how}`);
      // a cairn-pack volume carries its catalog in .cairn/: that is not part of the tree, not restored
      assert.deepEqual(byPath(res), expectResults(paths, 'done'), `${w.name}, ${how}: results`);
      assertTree(out, paths, precisionOf(w), `${w.name}, ${how}`);
    }
  });
}

test('--tar - reads stdin (gzip detected), and a tar made with `tar -C SRC .` (./ names) restores the same tree', () => {
  const gnu = WRITERS.find((w) => w.name === 'GNU tar --format=posix')!;
  const out = freshOut();
  const res = restoredOk(restore(['-d', out, '--tar', '-'], `${tarOf(gnu)}.gz`), '--tar - < x.tar.gz');
  assert.deepEqual(byPath(res), expectResults(ALL, 'done'));
  assertTree(out, ALL, 'us', '--tar -');

  const dot = path.join(TMP, 'dot.tgz');
  const t = bash(`LC_ALL=C.UTF-8 tar --format=posix -C ${q(SRC)} -czf ${q(dot)} .`);
  assert.equal(t.code, 0, t.stderr);
  const out2 = freshOut();
  const res2 = restoredOk(restore(['-d', out2, '--tar', dot]), 'tar -C SRC .');
  // "./" is the destination itself: no object of its own; "./a" is "a"
  assert.deepEqual(byPath(res2), expectResults(ALL, 'done'));
  assertTree(out2, ALL, 'us', 'tar -C SRC .');
});

test('two tars by --tar in one run: both restored, in order', () => {
  const dir = path.join(TMP, 'two');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'l1'), 'a.txt\ndir\ndir/sub\ndir/sub/deep.txt\n');
  fs.writeFileSync(path.join(dir, 'l2'), 'hl\nhl/a\nhl/b\nhl/sub\nhl/sub/c\nlink\n');
  for (const n of ['1', '2']) {
    const r = bash(`tar --format=posix -C ${q(SRC)} --no-recursion -T ${q(path.join(dir, `l${n}`))} -cf ${q(path.join(dir, `t${n}.tar`))}`);
    assert.equal(r.code, 0, r.stderr);
  }
  const out = freshOut();
  const res = restoredOk(restore(['-d', out, '--tar', path.join(dir, 't1.tar'), '--tar', path.join(dir, 't2.tar')]), 'two tars');
  const paths = ['a.txt', 'dir', 'dir/sub', 'dir/sub/deep.txt', 'hl', 'hl/a', 'hl/b', 'hl/sub', 'hl/sub/c', 'link'];
  assert.deepEqual(res.map((x) => x.path), paths, 'one record per object, in the order of the tars');
  assert.deepEqual(byPath(res), expectResults(paths, 'done'));
  assertTree(out, paths, 'us', 'two tars');
});

/*
 * Selection, from the GNU tar posix archive: --glob (a directory's match
 * takes its subtree; dot files like others; a pattern without / matches a
 * name at any depth), --regex on the relative path, PATH arguments (an
 * exact path or a directory's subtree), and any of them together. Only the
 * selected objects are restored and reported; the directories above them
 * are made.
 */
const SELECTIONS: { args: string[]; selected: string[] }[] = [
  {
    args: ['--glob', 'dir'],
    selected: ['dir', 'dir/.dotfile', 'dir/exec.sh', 'dir/link-up', 'dir/ro.txt', 'dir/setuid', 'dir/sub', 'dir/sub/deep.txt', 'dir/world'],
  },
  {
    args: ['--glob', 'dir/*'],
    selected: ['dir/.dotfile', 'dir/exec.sh', 'dir/link-up', 'dir/ro.txt', 'dir/setuid', 'dir/sub', 'dir/sub/deep.txt', 'dir/world'],
  },
  {
    args: ['--glob', '**/*.txt'],
    selected: ['a.txt', 'dir/ro.txt', 'dir/sub/deep.txt', 'dirx.txt', 'emoji 😀.txt', `${DEEP}/${'z'.repeat(90)}.txt`, `long/${P60}/${'q'.repeat(60)}.txt`, 'ünïcödé/日本語 ファイル.txt'],
  },
  { args: ['--glob', '.*'], selected: ['.hidden', 'dir/.dotfile'] },
  { args: ['--regex', '^ünïcödé/'], selected: [`ünïcödé/${NFD}`, 'ünïcödé/日本語 ファイル.txt'] },
  { args: ['--regex', 'hl/[ab]$'], selected: ['hl/a', 'hl/b'] },
  { args: ['a.txt', 'hl', `ünïcödé/${NFD}`], selected: ['a.txt', 'hl', 'hl/a', 'hl/b', 'hl/sub', 'hl/sub/c', `ünïcödé/${NFD}`] },
  { args: ['dir/sub/'], selected: ['dir/sub', 'dir/sub/deep.txt'] },
  { args: ['--glob', 'emptydir', '--regex', '^big', 'link', '--glob', 'nothing-matches'], selected: ['big.bin', 'emptydir', 'link'] },
];

for (const s of SELECTIONS) {
  test(`selection ${s.args.map((a) => JSON.stringify(a)).join(' ')}: exactly those objects restored and reported, the directories above them made`, () => {
    const tar = tarOf(WRITERS.find((w) => w.name === 'GNU tar --format=posix')!);
    const out = freshOut();
    const res = restoredOk(restore(['-d', out, '--tar', tar, ...s.args]), s.args.join(' '));
    assert.deepEqual(byPath(res), expectResults(s.selected, 'done'), 'one result per selected object, nothing else');
    const above = [...new Set(s.selected.flatMap(ancestors))].filter((d) => !s.selected.includes(d));
    const snap = metaSnapshot(out, { precision: 'us', side: 'restored' });
    assert.deepEqual([...snap.keys()].sort(), [...s.selected, ...above].sort(), 'the tree holds the selection and the directories above it');
    for (const d of above) assert.equal(snap.get(d)!.type, 'dir', `${d} is a directory`);
    assert.deepEqual(only(snap, s.selected), expected(s.selected, 'us'), 'selected objects are exact');
    assert.deepEqual(linkGroups(out), linkGroups(SRC, new Set(s.selected)), 'hard links among the selection are one inode');
  });
}

test('-d must name an existing directory: exit 2, one line, nothing written', () => {
  const tar = tarOf(WRITERS.find((w) => w.name === 'GNU tar --format=posix')!);
  const missing = path.join(TMP, 'no-such-dir');
  const r = restore(['-d', missing, '--tar', tar]);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^cairn-restore: [^\n]*\n$/);
  assert.equal(fs.existsSync(missing), false);
  const file = path.join(TMP, 'a-file');
  fs.writeFileSync(file, 'x');
  const r2 = restore(['-d', file, '--tar', tar]);
  assert.deepEqual([r2.code, r2.stdout], [2, '']);
  assert.match(r2.stderr, /^cairn-restore: [^\n]*\n$/);
  assert.equal(fs.readFileSync(file, 'utf8'), 'x');
  assert.deepEqual(listAll(TMP).filter((p) => p.includes('no-such-dir')), []);
});

/*
 * GNU sparse members, in every encoding GNU tar writes: the old `S`
 * typeflag (--format=gnu, oldgnu) and the pax encodings 0.0, 0.1 and 1.0
 * (--format=posix; 1.0 is its default), which hide the map in pax records
 * or in the data and name the member GNUSparseFile.PID/NAME. Restored under
 * the real name, byte for byte, and sparse again (the holes not written).
 */
test('GNU sparse files (gnu and oldgnu S typeflag, pax 0.0, 0.1, 1.0): restored byte for byte under their own name, holes kept', () => {
  const dir = path.join(TMP, 'sparse');
  fs.mkdirSync(path.join(dir, 's'), { recursive: true });
  const r = bash(
    `cd ${q(dir)} && truncate -s 5M s/sparse && printf hello | dd of=s/sparse bs=1 seek=1000000 conv=notrunc 2>/dev/null && ` +
      `printf world | dd of=s/sparse bs=1 seek=4000000 conv=notrunc 2>/dev/null && echo plain > s/plain`,
  );
  assert.equal(r.code, 0, r.stderr);
  const want = fs.readFileSync(path.join(dir, 's', 'sparse'));
  for (const [name, flags] of [
    ['gnu', '--format=gnu'],
    ['oldgnu', '--format=oldgnu'],
    ['pax-0.0', '--format=posix --sparse-version=0.0'],
    ['pax-0.1', '--format=posix --sparse-version=0.1'],
    ['pax-1.0', '--format=posix'],
  ] as const) {
    const tar = path.join(dir, `${name}.tar`);
    const t = bash(`tar ${flags} --sparse -C ${q(path.join(dir, 's'))} -cf ${q(tar)} sparse plain`);
    assert.equal(t.code, 0, t.stderr);
    const out = freshOut();
    const res = restore(['-d', out, '--tar', tar]);
    const recs = byPath(resultsOfLoose(res.stdout));
    assert.deepEqual(recs.map((x) => [x.path, x.status]), [['plain', 'done'], ['sparse', 'done']], `${name}: results`);
    assert.equal(res.code, 0, `${name}: exit 0: ${res.stderr}`);
    assert.deepEqual(listAll(out).sort(), ['./plain', './sparse'], `${name}: under the real name`);
    assert.ok(fs.readFileSync(path.join(out, 'sparse')).equals(want), `${name}: byte for byte`);
    const st = fs.statSync(path.join(out, 'sparse'));
    assert.ok(st.blocks * 512 < 1 << 20, `${name}: sparse again (${st.blocks} blocks for 5 MiB)`);
  }
});

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A copy of a tar with the bytes of one member's content replaced (same length), found by Python's tarfile. */
function corruptMember(tar: string, member: string, out: string): void {
  const r = bash(`python3 -c 'import tarfile,sys
t = tarfile.open(sys.argv[1]); m = t.getmember(sys.argv[2]); d = bytearray(open(sys.argv[1], "rb").read())
d[m.offset_data] ^= 0x20
open(sys.argv[3], "wb").write(d)' ${q(tar)} ${q(member)} ${q(out)}`);
  assert.equal(r.code, 0, r.stderr);
}

test('a cairn-pack volume whose member bytes changed (same size) is checked against its descriptor: that file failed and not written, exit 1', () => {
  const vol = tarOf(WRITERS.find((w) => w.name === 'a cairn-pack volume')!);
  const bad = path.join(TMP, 'bad-volume.tar');
  // An ASCII name and one that is not (their descriptor entries are found by different roads).
  const japanese = 'ünïcödé/日本語 ファイル.txt';
  const half = path.join(TMP, 'half-bad-volume.tar');
  corruptMember(vol, 'a.txt', half);
  corruptMember(half, japanese, bad);
  const out = freshOut();
  const r = restore(['-d', out, '--tar', bad]);
  assert.equal(r.code, 1, `exit 1; stderr: ${r.stderr}`);
  const rest = ALL.filter((p) => p !== 'a.txt' && p !== japanese);
  assert.deepEqual(
    byPath(resultsOfLoose(r.stdout)).map((x) => [x.path, x.status]),
    byPath(expectResults(ALL, 'done')).map((x) => [x.path, x.path === 'a.txt' || x.path === japanese ? 'failed' : 'done']),
  );
  assert.match(r.stderr, new RegExp(`^cairn-restore: ${escapeRe(bad)}: a\\.txt: [^\\n]+\\n`), 'a line for a.txt');
  assert.match(r.stderr, new RegExp(`\\n?cairn-restore: ${escapeRe(bad)}: ${escapeRe(japanese)}: [^\\n]+\\n`), 'a line for the Japanese name');
  assert.equal(r.stderr.split('\n').length, 3, r.stderr);
  assertTree(out, rest, 'us', 'the rest of the volume');
});

test('results lines are JSON.stringify\'s own text of their records, for names of every kind (quotes, backslashes, control bytes, Unicode, bytes that are no UTF-8)', () => {
  const src = path.join(TMP, 'odd-names');
  fs.mkdirSync(src);
  const names = ['q"uote', 'back\\slash', 'ctl\x01x', 'tab\tx', 'nl\nx', '日本', 'plain', 'sp ace'];
  for (const n of names) fs.writeFileSync(path.join(src, n), n);
  fs.writeFileSync(Buffer.from(`${src}/bad\xff`, 'latin1'), 'x');
  const tar = path.join(TMP, 'odd-names.tar');
  const t = bash(`LC_ALL=C.UTF-8 tar --format=posix -C ${q(src)} -cf ${q(tar)} .`);
  assert.equal(t.code, 0, t.stderr);
  const out = freshOut();
  const r = restore(['-d', out, '--tar', tar]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n').filter((l) => l.startsWith('{"op":"restore"'));
  assert.equal(lines.length, names.length + 1);
  for (const l of lines) {
    const rec = JSON.parse(l) as Record<string, unknown>;
    assert.equal(l, JSON.stringify(rec), 'canonical text');
    assert.deepEqual(Object.keys(rec), rec.path_b64 === undefined ? ['op', 'path', 'type', 'status'] : ['op', 'path', 'path_b64', 'type', 'status']);
  }
  const paths = lines.map((l) => (JSON.parse(l) as { path: string }).path).sort();
  assert.deepEqual(paths, [...names, 'bad\\xff'].sort());
});
