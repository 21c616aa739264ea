import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { archivedState, readCatalog, type Archived } from '../helpers/archive';
import { buildIso, extractIso } from '../helpers/iso';
import { isRoot, records, tempDir, testNeeding } from '../helpers/run';
import { bash, bytesOf, q } from '../helpers/sync';
import {
  byPath,
  expectResults,
  linkGroups,
  listAll,
  listingOf,
  metaSnapshot,
  mounterCalls,
  only,
  restore,
  restoredOk,
  resultsOf,
  writeMounter,
  type Meta,
  type Result,
} from '../helpers/restore';

/** Checked against other tools: skipped, saying which, where one is missing. */
const test = testNeeding('xorriso', 'osirrox', 'jq');

/*
 * cairn-restore from an archive catalog and its media, with the real
 * executables all the way: cairn-scan | cairn-plan --archive, then
 * cairn-pack (tar volumes) or cairn-graft | xorriso (ISO volumes, extracted
 * again with osirrox), over four runs (changes, deletions, a file split
 * over media, --discard, --compress). The source is snapshotted after each
 * run; restores at those points (--as-of a volume or a TIME) must give it
 * back exactly (content, type, target, hard links, mode, owner, mtime to
 * the microsecond), reading the media the independent catalog reader of
 * test/helpers/archive.ts says hold each object, and asking a --mounter for
 * exactly those, once each.
 */

const TMP = tempDir('cairn-restore-catalog-');
type Fmt = 'tar' | 'iso';

/** A time with its ns in the middle of a microsecond (see Precision in helpers/restore). */
function timeAt(day: number, i: number): string {
  return `2022-02-${String(day).padStart(2, '0')} 10:${String(10 + i).padStart(2, '0')}:00.${String((314159 + i * 7919) % 1_000_000).padStart(6, '0')}500`;
}

function touch(abs: string, time: string): void {
  const r = bash(`touch -h -d ${q(time)} ${q(abs)}`);
  assert.equal(r.code, 0, r.stderr);
}

interface Planned {
  file: string;
  volumes: number[];
  actions: Record<string, unknown>[];
}

interface State {
  /** The last volume written by the run. */
  volume: number;
  snap: Map<string, Meta>;
  links: string[][];
}

/**
 * A source, a catalog and the media of one format. Directory times are
 * set to fixed values after every change, so that the catalog's records of
 * directories (stored once, not again when only their time moves) still
 * describe the source exactly.
 */
class Cycle {
  readonly base: string;
  readonly src: string;
  readonly cat: string;
  readonly media: string;
  readonly spool: string;
  readonly states: State[] = [];
  private k = 0;
  private t = 0;

  constructor(readonly fmt: Fmt) {
    this.base = fs.mkdtempSync(path.join(TMP, `${fmt}-`));
    this.src = path.join(this.base, 'src');
    this.cat = path.join(this.base, 'cat');
    this.media = path.join(this.base, 'media');
    this.spool = path.join(this.base, 'spool');
    for (const d of [this.src, this.cat, this.media, this.spool]) fs.mkdirSync(d);
  }

  put(rel: string, data: string | Buffer, o: { mode?: number; owner?: [number, number] } = {}): void {
    const abs = path.join(this.src, rel);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, data);
    if (o.owner && isRoot) fs.chownSync(abs, o.owner[0], o.owner[1]);
    fs.chmodSync(abs, o.mode ?? 0o644);
    touch(abs, timeAt(1 + this.states.length, ++this.t));
  }

  /** Every directory of the source to a fixed time of its own. */
  settle(): void {
    const dirs: string[] = [];
    const walk = (rel: string) => {
      for (const d of fs.readdirSync(path.join(this.src, rel), { withFileTypes: true })) {
        const r = rel === '' ? d.name : `${rel}/${d.name}`;
        if (d.isDirectory()) {
          dirs.push(r);
          walk(r);
        }
      }
    };
    walk('');
    // a time that depends on the path alone: the same in every run
    for (const d of dirs) touch(path.join(this.src, d), timeAt(27, [...d].reduce((n, ch) => (n * 31 + ch.codePointAt(0)!) % 40, 7)));
  }

  /** cairn-scan | cairn-plan --archive into a file. */
  plan(flags: string[]): Planned {
    const file = path.join(this.base, `plan-${++this.k}.ndjson`);
    const r = bash(`set -o pipefail; cairn-scan ${q(this.src)} | cairn-plan --archive --catalog ${q(this.cat)} --format ${this.fmt} --medium-size 1M --volumes 10 ${flags.map(q).join(' ')} > ${q(file)}`);
    assert.equal(r.code, 0, `scan | plan: ${r.stderr}`);
    assert.equal(r.stderr, '');
    const recs = records(fs.readFileSync(file, 'utf8'));
    const volumes = (recs[0]!.archive as { volumes: { volume: number }[] }).volumes.map((v) => v.volume);
    return { file, volumes, actions: recs.slice(1, -1) };
  }

  tarFile(n: number): string {
    return path.join(this.media, `vol-${String(n).padStart(4, '0')}.tar`);
  }

  /** Where volume n is extracted (tar) or its image extracted by osirrox (iso). */
  dir(n: number): string {
    return path.join(this.media, String(n));
  }

  /** Writes every volume of the plan onto its medium, and extracts it into dir(n). */
  write(p: Planned): void {
    if (this.fmt === 'tar') {
      const r = bash(`cairn-pack -o ${q(path.join(this.media, 'vol-%04d.tar'))} ${q(p.file)}`);
      assert.equal(r.code, 0, `cairn-pack: ${r.stderr}`);
      assert.equal(r.stderr, '');
      for (const v of p.volumes) {
        assert.equal(bash(`gzip -c ${q(this.tarFile(v))} > ${q(this.tarFile(v))}.gz`).code, 0);
        fs.mkdirSync(this.dir(v));
        const x = bash(`tar -xf ${q(this.tarFile(v))} -C ${q(this.dir(v))}`);
        assert.equal(x.code, 0, x.stderr);
      }
      return;
    }
    // cairn-graft takes one volume a run: the plan cut per volume (as jq would).
    const lines = fs.readFileSync(p.file, 'utf8').trimEnd().split('\n');
    for (const v of p.volumes) {
      const head = JSON.parse(lines[0]!) as { archive: { volumes: { volume: number }[] } };
      head.archive.volumes = head.archive.volumes.filter((x) => x.volume === v);
      const body = lines.slice(1, -1).filter((l) => (JSON.parse(l) as { volume: number }).volume === v);
      const cut = path.join(this.base, `plan-${++this.k}-vol${v}.ndjson`);
      fs.writeFileSync(cut, [JSON.stringify(head), ...body, lines.at(-1)].join('\n') + '\n');
      const list = path.join(this.base, `list-${v}`);
      const g = bash(`cairn-graft --format xorriso --spool ${q(this.spool)} ${q(cut)} > ${q(list)}`);
      assert.equal(g.code, 0, `cairn-graft: ${g.stderr}`);
      assert.equal(g.stderr, '');
      const iso = path.join(this.media, `vol-${v}.iso`);
      buildIso('xorriso', list, iso);
      extractIso(iso, this.dir(v), 'osirrox');
    }
  }

  /** Plans, writes, and records the source as it is now. */
  run(flags: string[]): Planned {
    this.settle();
    const p = this.plan(flags);
    assert.ok(p.volumes.length > 0, 'something to archive');
    this.write(p);
    const state: State = {
      volume: p.volumes.at(-1)!,
      snap: metaSnapshot(this.src, { precision: 'us', side: 'source' }),
      links: linkGroups(this.src),
    };
    assert.deepEqual([...this.catalogState().keys()], [...state.snap.keys()], 'test bug: the catalog (independent reader) describes the source');
    this.states.push(state);
    return p;
  }

  /** The archived state (independent reader) counting volumes up to `upTo`. */
  catalogState(upTo = Infinity): Map<string, Archived> {
    return archivedState(readCatalog(this.cat).filter((d) => d.volume <= upTo));
  }

  /** --media arguments for every volume written, in a shuffled order. */
  allMedia(upTo = Infinity): string[] {
    const vols = readCatalog(this.cat).map((d) => d.volume).filter((v) => v <= upTo);
    const order = [...vols.filter((v) => v % 2 === 0), ...vols.filter((v) => v % 2 === 1).reverse()];
    return order.flatMap((v) => ['--media', this.fmt === 'tar' ? (v === 2 ? `${this.tarFile(v)}.gz` : this.tarFile(v)) : this.dir(v)]);
  }

  out(): string {
    const d = path.join(this.base, `out-${++this.k}`);
    fs.mkdirSync(d);
    return d;
  }
}

/**
 * The four runs: 1) a tree; 2) a file changed, a file and a directory
 * deleted, new files, a 1.5 MB file split over media of 1 MB; 3) --discard
 * 1 (lost: what was only on it is stored again) with --compress, a file
 * changed; 4) only top-level changes (a file deleted, changed, added).
 */
function cycle(fmt: Fmt): Cycle {
  const c = new Cycle(fmt);
  c.put('a.txt', 'a, first version\n');
  c.put('b.txt', 'b, first version\n');
  c.put('bin/run.sh', '#!/bin/sh\necho run\n', { mode: 0o755 });
  c.put('docs/readme.md', 'readme, first\n', { mode: 0o600 });
  c.put('docs/notes/n1.txt', 'note 1\n');
  c.put('docs/notes/n2.txt', 'note 2\n', { mode: 0o640, owner: [1234, 5678] });
  c.put('empty', '');
  fs.mkdirSync(path.join(c.src, 'emptydir'));
  fs.chmodSync(path.join(c.src, 'emptydir'), 0o750);
  c.put('hl/one', 'one inode, two names\n');
  fs.linkSync(path.join(c.src, 'hl/one'), path.join(c.src, 'hl/two'));
  fs.symlinkSync('a.txt', path.join(c.src, 'link'));
  touch(path.join(c.src, 'link'), timeAt(1, 40));
  c.put('photos/2019/img1.jpg', bytesOf(1, 20_000), { owner: [1234, 5678] });
  c.put('photos/2019/img2.jpg', bytesOf(2, 30_000));
  c.put('photos/2020/img3.jpg', bytesOf(3, 25_000));
  const p1 = c.run([]);
  assert.deepEqual(p1.volumes, [1]);

  c.put('a.txt', 'a, second version: longer\n');
  fs.rmSync(path.join(c.src, 'docs/notes/n1.txt'));
  fs.rmSync(path.join(c.src, 'photos/2020'), { recursive: true });
  c.put('photos/2021/img4.jpg', bytesOf(4, 40_000));
  c.put('big.bin', bytesOf(5, 1_500_000));
  const p2 = c.run([]);
  assert.ok(p2.volumes.length >= 2, `the big file is split: volumes ${p2.volumes.join(',')}`);
  assert.ok(p2.actions.some((a) => a.path === 'big.bin' && a.part !== undefined));

  c.put('docs/readme.md', 'readme, second\n', { mode: 0o600 });
  const p3 = c.run(['--discard', '1', '--compress']);
  assert.equal(p3.volumes.length, 1);

  fs.rmSync(path.join(c.src, 'a.txt'));
  c.put('b.txt', 'b, second version\n');
  c.put('late.txt', 'added last\n');
  const p4 = c.run([]);
  assert.equal(p4.volumes.length, 1);
  assert.deepEqual(
    p4.actions.map((a) => [a.op, a.path]),
    [['tombstone', 'a.txt'], ['store', 'b.txt'], ['store', 'late.txt']],
    'run 4 touches only top-level files',
  );
  return c;
}

const cycles = new Map<Fmt, Cycle>();
function cycleOf(fmt: Fmt): Cycle {
  let c = cycles.get(fmt);
  if (c === undefined) cycles.set(fmt, (c = cycle(fmt)));
  return c;
}

/** The volume each plain (not split) file comes from; split files and other objects: none. */
function fileVolumes(state: Map<string, Archived>): Map<string, number> {
  return new Map([...state].filter(([, a]) => a.type === 'file' && a.parts === undefined).map(([p, a]) => [p, a.volume]));
}

/** The volumes that must be read for these paths: plain files' and every part's. */
function neededVolumes(state: Map<string, Archived>, paths?: Set<string>): number[] {
  const out = new Set<number>();
  for (const [p, a] of state) {
    if (paths !== undefined && !paths.has(p)) continue;
    if (a.type !== 'file') continue;
    if (a.parts !== undefined) for (const x of a.parts) out.add(x.volume);
    else out.add(a.volume);
  }
  return [...out].sort((x, y) => x - y);
}

/** Results of a clean catalog restore of the whole state: every object done, plain files from their volume. */
function assertAllDone(res: Result[], state: Map<string, Archived>, what: string): void {
  const vols = fileVolumes(state);
  assert.deepEqual(
    byPath(res).map((r) => ({ ...r, volume: vols.has(r.path) ? r.volume : undefined })),
    expectResults(state.keys(), 'done').map((r) => ({ ...r, volume: vols.get(r.path) })),
    `${what}: one result per object, done, each plain file read from the volume the catalog names`,
  );
}

function assertRestored(out: string, s: State, what: string): void {
  assert.deepEqual(metaSnapshot(out, { precision: 'us', side: 'restored' }), s.snap, `${what}: the restored tree is the source as it was`);
  assert.deepEqual(linkGroups(out), s.links, `${what}: hard links`);
}

for (const fmt of ['tar', 'iso'] as const) {
  test(`${fmt} media: --as-of each run's last volume, and the newest state, restore the source as it was then (--media ${fmt === 'tar' ? 'volume tars, one gzipped' : 'extracted ISOs'})`, () => {
    const c = cycleOf(fmt);
    const points: [string, string[], State, number][] = [
      ['--as-of 1', ['--as-of', '1'], c.states[0]!, 1],
      [`--as-of ${c.states[1]!.volume}`, ['--as-of', String(c.states[1]!.volume)], c.states[1]!, c.states[1]!.volume],
      [`--as-of ${c.states[2]!.volume} (volume 1 discarded)`, ['--as-of', String(c.states[2]!.volume)], c.states[2]!, c.states[2]!.volume],
      ['newest (no --as-of)', [], c.states[3]!, Infinity],
    ];
    for (const [what, args, state, upTo] of points) {
      const out = c.out();
      const res = restoredOk(restore(['-d', out, '--catalog', c.cat, ...c.allMedia(), ...args]), what, true);
      const cs = c.catalogState(upTo);
      assertAllDone(res, cs, what);
      if (upTo >= c.states[2]!.volume) assert.ok(!res.some((r) => r.volume === 1), `${what}: nothing read from the discarded volume 1`);
      assertRestored(out, state, what);
    }
  });
}

test('--as-of TIME: a volume\'s created time (UTC, and the same instant at +02:00) takes that volume and those before; tomorrow\'s date, all', () => {
  const c = cycleOf('tar');
  const v2 = c.states[1]!.volume;
  const created = readCatalog(c.cat).find((d) => d.volume === v2)!.header.created as string;
  const next = readCatalog(c.cat).find((d) => d.volume === v2 + 1)!.header.created as string;
  assert.ok(created < next, `test bug: volumes ${v2} and ${v2 + 1} made at distinct times (${created}, ${next})`);
  const ms = Date.parse(created);
  const plus2 = new Date(ms + 2 * 3600_000).toISOString().replace('Z', '+02:00');
  const tomorrow = new Date(Date.now() + 86400_000).toISOString().slice(0, 10);
  for (const [time, state] of [
    [created, c.states[1]!],
    [plus2, c.states[1]!],
    [tomorrow, c.states[3]!],
  ] as const) {
    const out = c.out();
    restoredOk(restore(['-d', out, '--catalog', c.cat, ...c.allMedia(), '--as-of', time]), `--as-of ${time}`);
    assertRestored(out, state, `--as-of ${time}`);
    const l = restore(['--list', '-d', out, '--catalog', c.cat, '--as-of', time]);
    assert.equal(l.code, 0, l.stderr);
    assert.equal(listingOf(l.stdout).header.as_of, state.volume, `--list --as-of ${time}: the volume it stands for`);
  }
});

test('--mounter (extracted ISOs): asked for exactly the volumes the catalog needs, each once, in --list order, then volume 0; --list names them and every object', () => {
  const c = cycleOf('iso');
  const state = c.catalogState();
  const log = path.join(c.base, 'mounter-all.log');
  const mounter = writeMounter(path.join(c.base, 'mount-all.sh'), (n) => c.dir(n), log);
  const out = c.out();

  const l = restore(['--list', '-d', out, '--catalog', c.cat]);
  assert.equal(l.code, 0, l.stderr);
  assert.equal(l.stderr, '');
  const listing = listingOf(l.stdout);
  assert.deepEqual(listAll(out), [], '--list writes nothing');
  assert.deepEqual([listing.header.catalog, listing.header.as_of], [c.cat, null]);
  assert.deepEqual([...listing.media].sort((a, b) => a - b), neededVolumes(state), '--list: the media needed, each once');
  assert.equal(new Set(listing.media).size, listing.media.length);
  // every object once (a split file: once per part); files and parts with the volume they are read from,
  // grouped by volume in the order of the media
  const files = fileVolumes(state);
  const want: string[] = [];
  for (const [p, a] of state) {
    if (a.parts !== undefined) for (const x of a.parts) want.push(`${x.volume} ${p} part@${x.offset}+${x.size}`);
    else if (files.has(p)) want.push(`${files.get(p)} ${p}`);
    else want.push(`- ${p}`);
  }
  const got = listing.records.map((r) => {
    const part = r.part as { offset: number; size: number } | undefined;
    if (r.type !== 'file') return `- ${r.path as string}`;
    return `${r.volume as number} ${r.path as string}${part ? ` part@${part.offset}+${part.size}` : ''}`;
  });
  assert.deepEqual([...got].sort(), [...want].sort(), '--list: the records');
  const fileRecs = listing.records.filter((r) => r.type === 'file').map((r) => listing.media.indexOf(r.volume as number));
  assert.deepEqual(fileRecs, [...fileRecs].sort((a, b) => a - b), '--list: file records grouped by volume, in media order');

  const res = restoredOk(restore(['-d', out, '--catalog', c.cat, '--mounter', mounter]), '--mounter', true);
  assert.deepEqual(mounterCalls(log), [...listing.media, 0], 'the mounter: each needed volume once, in --list order, then 0');
  assert.ok(!mounterCalls(log).includes(1), 'never the discarded volume 1');
  assertAllDone(res, state, '--mounter');
  assertRestored(out, c.states[3]!, '--mounter');
});

test('restoring one file asks the mounter for exactly one medium (the directories above it come from the catalog)', () => {
  const c = cycleOf('iso');
  const state = c.catalogState();
  const p = 'photos/2021/img4.jpg';
  const v = state.get(p)!.volume;
  assert.notEqual(state.get('photos')!.volume, v, 'test bug: the directory above lives on another volume');
  const log = path.join(c.base, 'mounter-one.log');
  const out = c.out();
  const res = restoredOk(restore(['-d', out, '--catalog', c.cat, '--mounter', writeMounter(path.join(c.base, 'mount-one.sh'), (n) => c.dir(n), log), p]), 'one file', true);
  assert.deepEqual(mounterCalls(log), [v, 0]);
  assert.deepEqual(res, [{ op: 'restore', path: p, status: 'done', volume: v }]);
  const snap = metaSnapshot(out, { precision: 'us', side: 'restored' });
  assert.deepEqual([...snap.keys()], ['photos', 'photos/2021', p]);
  assert.deepEqual(snap.get(p), c.states[3]!.snap.get(p));
});

test('a mounter that fails for one volume: that volume\'s files fail (one line each), the others are restored, exit 1', () => {
  const c = cycleOf('iso');
  const v4 = c.states[3]!.volume;
  const log = path.join(c.base, 'mounter-fail.log');
  const out = c.out();
  const r = restore(['-d', out, '--catalog', c.cat, '--mounter', writeMounter(path.join(c.base, 'mount-fail.sh'), (n) => c.dir(n), log, [v4])]);
  assert.equal(r.code, 1, r.stderr);
  const lost = ['b.txt', 'late.txt'];
  const state = c.catalogState();
  assert.deepEqual(
    byPath(resultsOf(r.stdout, true)).map((x) => [x.path, x.status, x.status === 'failed' ? x.volume : undefined]),
    [...state.keys()].map((p) => [p, lost.includes(p) ? 'failed' : 'done', lost.includes(p) ? v4 : undefined]),
  );
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 2, r.stderr);
  lines.sort().forEach((l, i) => assert.match(l, new RegExp(`^cairn-restore: [^\\n]*${lost[i]!.replace('.', '\\.')}: `)));
  assert.equal(mounterCalls(log).at(-1), 0, 'volume 0 still asked at the end');
  assert.ok(mounterCalls(log).includes(v4));
  const want = new Map([...c.states[3]!.snap].filter(([p]) => !lost.includes(p)));
  assert.deepEqual(metaSnapshot(out, { precision: 'us', side: 'restored' }), want);
});

test('split file rejoined from its parts on several media (and restored alone, from exactly those media)', () => {
  for (const fmt of ['tar', 'iso'] as const) {
    const c = cycleOf(fmt);
    const state = c.catalogState();
    const big = state.get('big.bin')!;
    assert.ok(big.parts !== undefined && new Set(big.parts.map((x) => x.volume)).size >= 2, `${fmt}: big.bin has parts on two media or more`);
    const log = path.join(c.base, 'mounter-big.log');
    const out = c.out();
    const res = restoredOk(restore(['-d', out, '--catalog', c.cat, '--mounter', writeMounter(path.join(c.base, 'mount-big.sh'), (n) => c.dir(n), log), 'big.bin']), `${fmt}: big.bin`);
    assert.deepEqual(res.map((x) => [x.path, x.status]), [['big.bin', 'done']], `${fmt}: one result for the split file`);
    assert.deepEqual(mounterCalls(log).slice(0, -1).sort((a, b) => a - b), neededVolumes(state, new Set(['big.bin'])));
    assert.deepEqual(metaSnapshot(out, { precision: 'us', side: 'restored' }), only(c.states[3]!.snap, ['big.bin']));
    // again: the split file is there, identical: reported "same"; then changed: kept, reported "skipped", exit 1
    const again = restoredOk(restore(['-d', out, '--catalog', c.cat, ...c.allMedia(), 'big.bin']), `${fmt}: big.bin again`);
    assert.deepEqual(again.map((x) => [x.path, x.status]), [['big.bin', 'same']], `${fmt}: a split file already there`);
    fs.writeFileSync(path.join(out, 'big.bin'), 'edited\n');
    const kept = restore(['-d', out, '--catalog', c.cat, ...c.allMedia(), 'big.bin']);
    assert.deepEqual(resultsOf(kept.stdout).map((x) => [x.path, x.status]), [['big.bin', 'skipped']], `${fmt}: a split file that differs`);
    assert.equal(kept.code, 1);
    assert.match(kept.stderr, /^cairn-restore: [^\n]*big\.bin: [^\n]*\n$/);
    assert.equal(fs.readFileSync(path.join(out, 'big.bin'), 'utf8'), 'edited\n');
  }
});

test('a hard link restored alone (its first name not selected) is a file with its content', () => {
  for (const fmt of ['tar', 'iso'] as const) {
    const c = cycleOf(fmt);
    const out = c.out();
    const res = restoredOk(restore(['-d', out, '--catalog', c.cat, ...c.allMedia(), 'hl/two']), `${fmt}: hl/two`);
    assert.deepEqual(res.map((x) => [x.path, x.status]), [['hl/two', 'done']]);
    const snap = metaSnapshot(out, { precision: 'us', side: 'restored' });
    assert.deepEqual([...snap.keys()], ['hl', 'hl/two']);
    assert.deepEqual(snap.get('hl/two'), c.states[3]!.snap.get('hl/two'));
  }
});

test('--media without --catalog: the catalog is the newest medium\'s .cairn/ (all media: the newest state; media up to run 3: the state then)', () => {
  for (const fmt of ['tar', 'iso'] as const) {
    const c = cycleOf(fmt);
    const out = c.out();
    const res = restoredOk(restore(['-d', out, ...c.allMedia()]), `${fmt}: all media`, true);
    assertAllDone(res, c.catalogState(), `${fmt}: all media, no --catalog`);
    assertRestored(out, c.states[3]!, `${fmt}: all media, no --catalog`);
    const v3 = c.states[2]!.volume;
    const out3 = c.out();
    const res3 = restoredOk(restore(['-d', out3, ...c.allMedia(v3)]), `${fmt}: media up to ${v3}`, true);
    assertAllDone(res3, c.catalogState(v3), `${fmt}: media up to ${v3}, no --catalog`);
    assertRestored(out3, c.states[2]!, `${fmt}: media up to ${v3}, no --catalog`);
  }
});

/*
 * A small catalog whose --list is known exactly (cairn-pack volumes, scans
 * without hashes so that a touched file is stored again, same content):
 *   volume 1: f, g, h      volume 2: f (only its mtime changed)
 *   volume 3: h (changed), j, k, m
 * The newest state needs volume 3 (h j k m) and volume 1 (g), and takes f's
 * content from volume 1, needed anyway; volume 2 is not asked for at all.
 */
interface Small {
  base: string;
  src: string;
  cat: string;
  tar: (n: number) => string;
  dir: (n: number) => string;
  media: string[];
  sizes: Record<string, number>;
  f2time: string;
}

let small: Small | undefined;
function smallCatalog(): Small {
  if (small !== undefined) return small;
  const base = fs.mkdtempSync(path.join(TMP, 'small-'));
  const src = path.join(base, 'src');
  const cat = path.join(base, 'cat');
  fs.mkdirSync(src);
  fs.mkdirSync(cat);
  const tar = (n: number) => path.join(base, `vol-${n}.tar`);
  const dir = (n: number) => path.join(base, `vol-${n}`);
  const put = (name: string, data: string, time: string) => {
    fs.writeFileSync(path.join(src, name), data);
    touch(path.join(src, name), time);
  };
  const run = (n: number) => {
    const r = bash(`set -o pipefail; cairn-scan ${q(src)} | cairn-plan --archive --catalog ${q(cat)} --format tar --medium-size 10M | cairn-pack -o ${q(tar(n))}`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    fs.mkdirSync(dir(n));
    assert.equal(bash(`tar -xf ${q(tar(n))} -C ${q(dir(n))}`).code, 0);
  };
  put('f', 'f: stored twice, the same\n', timeAt(1, 1));
  put('g', 'g: volume 1 only\n', timeAt(1, 2));
  put('h', 'h v1\n', timeAt(1, 3));
  run(1);
  const f2time = timeAt(2, 1);
  touch(path.join(src, 'f'), f2time);
  run(2);
  put('h', 'h, second version\n', timeAt(3, 1));
  put('j', 'j\n', timeAt(3, 2));
  put('k', 'kk\n', timeAt(3, 3));
  put('m', 'mmm\n', timeAt(3, 4));
  run(3);
  const recs = (n: number) => readCatalog(cat).find((d) => d.volume === n)!.records.map((r) => r.path);
  assert.deepEqual([recs(1), recs(2), recs(3)], [['f', 'g', 'h'], ['f'], ['h', 'j', 'k', 'm']], 'test bug: the volumes hold what the scenario says');
  const sizes = Object.fromEntries(['f', 'g', 'h', 'j', 'k', 'm'].map((n) => [n, fs.statSync(path.join(src, n)).size]));
  small = { base, src, cat, tar, dir, media: [1, 2, 3].flatMap((n) => ['--media', tar(n)]), sizes, f2time };
  return small;
}

function listOf(s: Small, args: string[]): { header: Record<string, unknown>; records: Record<string, unknown>[] } {
  const out = path.join(s.base, 'list-out');
  fs.mkdirSync(out, { recursive: true });
  const r = restore(['--list', '-d', out, '--catalog', s.cat, ...args]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.deepEqual(listAll(out), [], '--list writes nothing');
  const recs = records(r.stdout);
  const header = { ...recs[0]! };
  delete header.tool;
  delete header.created;
  assert.deepEqual(recs.at(-1)!.cairn, 'end');
  return { header, records: recs.slice(1, -1) };
}

test('--list, exact: fewest media (a file stored twice is read from the volume needed anyway), the volume serving most first, each once', () => {
  const s = smallCatalog();
  const rec = (volume: number, p: string) => ({ volume, path: p, type: 'file', size: s.sizes[p] });
  assert.deepEqual(listOf(s, []), {
    header: { cairn: 'restore', version: 1, catalog: s.cat, as_of: null, media: [3, 1] },
    records: [rec(3, 'h'), rec(3, 'j'), rec(3, 'k'), rec(3, 'm'), rec(1, 'f'), rec(1, 'g')],
  });
  assert.deepEqual(listOf(s, ['--as-of', '2']), {
    header: { cairn: 'restore', version: 1, catalog: s.cat, as_of: 2, media: [1] },
    records: [rec(1, 'f'), rec(1, 'g'), { ...rec(1, 'h'), size: 'h v1\n'.length }],
  });
  assert.deepEqual(listOf(s, ['h']).records, [rec(3, 'h')]);
  assert.deepEqual(listOf(s, ['h']).header.media, [3]);
  assert.deepEqual(listOf(s, ['g', 'f']), {
    header: { cairn: 'restore', version: 1, catalog: s.cat, as_of: null, media: [1] },
    records: [rec(1, 'f'), rec(1, 'g')],
  });
  const fAlone = listOf(s, ['f']);
  assert.equal((fAlone.header.media as number[]).length, 1, 'f alone: one medium');
  assert.ok([1, 2].includes((fAlone.header.media as number[])[0]!));
});

test('the small catalog by --mounter: volumes 3 then 1, then 0; f gets its newest mtime and its bytes from volume 1; f alone: one medium', () => {
  const s = smallCatalog();
  const log = path.join(s.base, 'm.log');
  const mounter = writeMounter(path.join(s.base, 'm.sh'), s.dir, log);
  const out = path.join(s.base, 'out-mounter');
  fs.mkdirSync(out);
  const res = restoredOk(restore(['-d', out, '--catalog', s.cat, '--mounter', mounter]), 'small, mounter', true);
  assert.deepEqual(mounterCalls(log), [3, 1, 0]);
  assert.deepEqual(byPath(res), [
    { op: 'restore', path: 'f', status: 'done', volume: 1 },
    { op: 'restore', path: 'g', status: 'done', volume: 1 },
    { op: 'restore', path: 'h', status: 'done', volume: 3 },
    { op: 'restore', path: 'j', status: 'done', volume: 3 },
    { op: 'restore', path: 'k', status: 'done', volume: 3 },
    { op: 'restore', path: 'm', status: 'done', volume: 3 },
  ]);
  assert.deepEqual(metaSnapshot(out, { precision: 'us', side: 'restored' }), metaSnapshot(s.src, { precision: 'us', side: 'source' }));
  fs.writeFileSync(log, '');
  const out2 = path.join(s.base, 'out-f');
  fs.mkdirSync(out2);
  restoredOk(restore(['-d', out2, '--catalog', s.cat, '--mounter', mounter, 'f']), 'f alone');
  const calls = mounterCalls(log);
  assert.equal(calls.length, 2, `one medium, then 0: ${calls.join(',')}`);
  assert.ok([1, 2].includes(calls[0]!) && calls[1] === 0, calls.join(','));
  assert.deepEqual(metaSnapshot(out2, { precision: 'us', side: 'restored' }), only(metaSnapshot(s.src, { precision: 'us', side: 'source' }), ['f']));
});

test('--overwrite never (default) / older / always, and --dry-run, on a destination restored before and then changed', () => {
  const s = smallCatalog();
  const out = path.join(s.base, 'out-overwrite');
  fs.mkdirSync(out);
  const all = ['f', 'g', 'h', 'j', 'k', 'm'];
  const src = () => metaSnapshot(s.src, { precision: 'us', side: 'source' });
  const now = () => metaSnapshot(out, { precision: 'us', side: 'restored' });
  const statuses = (r: { stdout: string }) => Object.fromEntries(resultsOf(r.stdout).map((x) => [x.path, x.status]));
  const run = (flags: string[]) => restore(['-d', out, '--catalog', s.cat, ...s.media, ...flags]);

  // an empty destination, dry run: every object "dry-run", nothing written
  const dry0 = run(['--dry-run']);
  assert.deepEqual([dry0.code, dry0.stderr], [0, '']);
  assert.deepEqual(statuses(dry0), Object.fromEntries(all.map((p) => [p, 'dry-run'])));
  assert.deepEqual(listAll(out), []);

  const first = restoredOk(run([]), 'first restore');
  assert.deepEqual(byPath(first).map((x) => x.status), all.map(() => 'done'));
  assert.deepEqual(now(), src());

  // again: identical objects are "same", no problem
  const again = run([]);
  assert.deepEqual([again.code, again.stderr], [0, '']);
  assert.deepEqual(statuses(again), Object.fromEntries(all.map((p) => [p, 'same'])));

  // g changed and older than the archive's, h changed and newer, j deleted
  fs.writeFileSync(path.join(out, 'g'), 'g edited, older\n');
  touch(path.join(out, 'g'), '2001-01-01 00:00:00');
  fs.writeFileSync(path.join(out, 'h'), 'h edited, newer\n');
  touch(path.join(out, 'h'), '2031-01-01 00:00:00');
  fs.rmSync(path.join(out, 'j'));
  const edited = () => ({ g: fs.readFileSync(path.join(out, 'g'), 'utf8'), h: fs.readFileSync(path.join(out, 'h'), 'utf8') });

  const dry = run(['--dry-run', '--overwrite', 'always']);
  assert.deepEqual([dry.code, dry.stderr], [0, '']);
  assert.deepEqual(statuses(dry), { f: 'same', g: 'dry-run', h: 'dry-run', j: 'dry-run', k: 'same', m: 'same' });
  assert.deepEqual(edited(), { g: 'g edited, older\n', h: 'h edited, newer\n' });
  assert.equal(fs.existsSync(path.join(out, 'j')), false, '--dry-run writes nothing');

  const never = run([]);
  assert.equal(never.code, 1, 'skipped objects: exit 1');
  assert.deepEqual(statuses(never), { f: 'same', g: 'skipped', h: 'skipped', j: 'done', k: 'same', m: 'same' });
  assert.deepEqual(never.stderr.trimEnd().split('\n').map((l) => /^cairn-restore: [^\n]*?([gh]): /.exec(l)?.[1]).sort(), ['g', 'h'], `one line each for g and h: ${never.stderr}`);
  assert.deepEqual(edited(), { g: 'g edited, older\n', h: 'h edited, newer\n' }, 'never: kept');

  const older = run(['--overwrite', 'older']);
  assert.equal(older.code, 1);
  assert.deepEqual(statuses(older), { f: 'same', g: 'done', h: 'skipped', j: 'same', k: 'same', m: 'same' });
  assert.match(older.stderr, /^cairn-restore: [^\n]*h: [^\n]*\n$/, 'one line, for h');
  assert.deepEqual(edited(), { g: 'g: volume 1 only\n', h: 'h edited, newer\n' }, 'older: the older one replaced');

  const always = run(['--overwrite', 'always']);
  assert.deepEqual([always.code, always.stderr], [0, '']);
  assert.deepEqual(statuses(always), { f: 'same', g: 'same', h: 'done', j: 'same', k: 'same', m: 'same' });
  assert.deepEqual(now(), src(), 'always: the destination is the archive again');
});

test('media whose bytes changed (same size): a file and a split file that do not verify fail, are not written, and the rest is restored (exit 1)', () => {
  const c = cycleOf('iso');
  const state = c.catalogState();
  const img = 'photos/2021/img4.jpg';
  const big = state.get('big.bin')!;
  const partVol = big.parts!.at(-1)!.volume;
  const partName = `big.bin.cairn-part-${String(big.parts!.at(-1)!.offset).padStart(15, '0')}`;
  const bad = new Map<number, string>();
  for (const [v, member] of [[state.get(img)!.volume, img], [partVol, partName]] as const) {
    let copy = bad.get(v);
    if (copy === undefined) {
      copy = path.join(c.base, `bad-${v}`);
      assert.equal(bash(`cp -a ${q(c.dir(v))} ${q(copy)}`).code, 0);
      bad.set(v, copy);
    }
    const f = path.join(copy, member);
    const data = fs.readFileSync(f);
    data[data.length >> 1] ^= 0x01;
    fs.writeFileSync(f, data);
  }
  const media = readCatalog(c.cat).map((d) => d.volume).flatMap((v) => ['--media', bad.get(v) ?? c.dir(v)]);
  const out = c.out();
  const r = restore(['-d', out, '--catalog', c.cat, ...media]);
  assert.equal(r.code, 1, r.stderr);
  const failed = ['big.bin', img];
  assert.deepEqual(
    byPath(resultsOf(r.stdout)).map((x) => [x.path, x.status]),
    [...state.keys()].map((p) => [p, failed.includes(p) ? 'failed' : 'done']),
  );
  assert.deepEqual(r.stderr.trimEnd().split('\n').map((l) => /^cairn-restore: .*?(big\.bin|photos\/2021\/img4\.jpg): /.exec(l)?.[1]).sort(), failed, r.stderr);
  // nothing under their names, no temporary leftovers: exactly the rest
  const want = new Map([...c.states[3]!.snap].filter(([p]) => !failed.includes(p)));
  assert.deepEqual(metaSnapshot(out, { precision: 'us', side: 'restored' }), want);
});

test('bad usage: exit 2, one line on stderr, nothing on stdout, nothing written', () => {
  const s = smallCatalog();
  const out = path.join(s.base, 'out-usage');
  fs.mkdirSync(out);
  for (const args of [
    ['--catalog', s.cat, ...s.media, '--overwrite', 'sometimes'],
    ['--catalog', s.cat, ...s.media, '--as-of', 'yesterday'],
    ['--tar', s.tar(1), '--as-of', '1'],
    ['--tar', s.tar(1), '--catalog', s.cat],
    ['--catalog', s.cat, '--media', path.join(s.base, 'no-such-medium')],
    ['--media', s.src],
  ]) {
    const r = restore(['-d', out, ...args]);
    assert.deepEqual([r.code, r.stdout], [2, ''], `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^cairn-restore: [^\n]*\n$/, args.join(' '));
    assert.deepEqual(listAll(out), [], `${args.join(' ')}: nothing written`);
  }
});
