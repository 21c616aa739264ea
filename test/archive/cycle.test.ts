import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers/run';
import { setTime } from '../helpers/tree';
import { bash, bytesOf, q } from '../helpers/sync';
import {
  ArchiveRig,
  archivedState,
  assertArchived,
  catalogBytes,
  descriptorText,
  extractTar,
  freshDir,
  opsOf,
  parseDescriptor,
  readCatalog,
  tarMembers,
  type MediumFmt,
} from '../helpers/archive';

/*
 * The incremental archive over several runs, with the real executables:
 * cairn-scan | cairn-plan --archive, then cairn-pack (tar) or cairn-apply
 * --dst (dir). After every run an independent reader of the catalog
 * (test/helpers/archive.ts) says what is archived where; that must be the
 * source (paths, sizes, hashes), and the media, read where the catalog
 * points, must hold those very bytes.
 */

const TMP = tempDir('cairn-archive-');
const T0 = '2023-01-01 00:00:00.000000000';

/** Where the catalog says each path is. */
function whereIs(rig: ArchiveRig): Record<string, number> {
  return Object.fromEntries([...rig.state()].map(([p, a]) => [p, a.volume]));
}

/** What a volume must hold: `.cairn`, its descriptor, the earlier ones, then objects in plan order (a dir medium: the same set). */
function assertMembers(rig: ArchiveRig, n: number, descriptors: string[], objects: string[]): void {
  const want = ['.cairn', ...descriptors.map((d) => `.cairn/${d}`), ...objects];
  assert.deepEqual(rig.members(n), rig.fmt === 'tar' ? want : [...want].sort(), `volume ${n} holds exactly`);
}

function descriptorRecords(rig: ArchiveRig, n: number): string[][] {
  const d = readCatalog(rig.cat).find((x) => x.volume === n)!;
  return d.records.map((r) => [r.tombstone ? 'tombstone' : r.type!, r.path]);
}

function fullCycle(fmt: MediumFmt): void {
  const rig = new ArchiveRig(fmt, freshDir(TMP, `cycle-${fmt}-`));
  const put = (rel: string, data: string | Buffer, time: string) => {
    fs.mkdirSync(path.dirname(rig.p(rel)), { recursive: true });
    fs.writeFileSync(rig.p(rel), data);
    setTime(rig.p(rel), time);
  };
  const B_TIME = '2023-02-02 02:02:02.123456789';
  put('a.txt', 'hello\n', T0);
  put('d/b', 'world\n', B_TIME);
  put('d/sub/c', bytesOf(1, 10000), T0);
  put('d/sub/keep', 'keep\n', T0);
  put('d/sub/old', 'old\n', T0);
  put('gone/x/y', 'y\n', T0);
  put('t.txt', 'touch me\n', T0);
  fs.symlinkSync('a.txt', rig.p('link'));
  fs.mkdirSync(rig.p('empty'));

  // Run 1: everything, from a scan without hashes (the planner hashes what it stores).
  const p1 = rig.plan(rig.scan(false), ['--medium-size', '1M']);
  assert.deepEqual(p1.header.archive, {
    catalog: rig.cat,
    medium_size: 1_000_000,
    format: fmt,
    volumes: [{ volume: 1, label: 'CAIRN_0001', bytes: p1.header.archive.volumes[0]!.bytes, files: 8 }],
    discards: [],
    compress: false,
  });
  const all1 = ['a.txt', 'd', 'd/b', 'd/sub', 'd/sub/c', 'd/sub/keep', 'd/sub/old', 'empty', 'gone', 'gone/x', 'gone/x/y', 'link', 't.txt'];
  assert.deepEqual(opsOf(p1), all1.map((p) => ['store', p]));
  for (const a of p1.actions) {
    const src = a.src as { type: string; hash?: string };
    if (src.type === 'file') assert.match(src.hash ?? '', /^sha256:[0-9a-f]{64}$/, `${a.path as string}: a stored file carries its hash`);
  }
  rig.write(p1);
  assert.deepEqual(fs.readdirSync(rig.cat), ['vol-0001.ndjson']);
  assertMembers(rig, 1, ['vol-0001.ndjson'], all1);
  assert.deepEqual(descriptorRecords(rig, 1).map((r) => r[1]), all1);
  assertArchived(rig, 'run 1');

  // Run 2 (hashed scan): new content of a new size; new content of the same size and the
  // same mtime (only the hash tells); only a new mtime (not stored: same content);
  // a deleted directory tree; new files, one in a new directory.
  put('a.txt', 'hello, changed\n', '2023-03-03 00:00:00');
  put('d/b', 'WORLD\n', B_TIME);
  setTime(rig.p('t.txt'), '2023-04-04 04:04:04.5');
  fs.rmSync(rig.p('gone'), { recursive: true });
  put('d/new', 'new\n', T0);
  put('e/f', 'f\n', T0);
  const s2 = rig.scan(true);
  const p2 = rig.plan(s2, ['--medium-size', '1M']);
  assert.deepEqual(opsOf(p2), [
    ['store', 'a.txt'],
    ['store', 'd'],
    ['store', 'd/b'],
    ['store', 'd/new'],
    ['store', 'e'],
    ['store', 'e/f'],
    ['tombstone', 'gone'],
    ['tombstone', 'gone/x'],
    ['tombstone', 'gone/x/y'],
  ]);
  assert.deepEqual(p2.header.archive.volumes.map((v) => [v.volume, v.label, v.files]), [[2, 'CAIRN_0002', 4]]);
  // d/b: the catalog's size and mtime are the scan's; only the hash tells the new content.
  const b1 = readCatalog(rig.cat)[0]!.records.find((r) => r.path === 'd/b')!;
  const b2 = p2.actions.find((a) => a.path === 'd/b')!.src as { size: number; mtime: string; hash: string };
  assert.deepEqual([b2.size, b2.mtime], [b1.size, b1.mtime]);
  assert.notEqual(b2.hash, b1.hash);
  rig.write(p2);
  assert.deepEqual(fs.readdirSync(rig.cat), ['vol-0001.ndjson', 'vol-0002.ndjson']);
  assertMembers(rig, 2, ['vol-0002.ndjson', 'vol-0001.ndjson'], ['a.txt', 'd', 'd/b', 'd/new', 'e', 'e/f']);
  assert.deepEqual(descriptorRecords(rig, 2), [
    ['file', 'a.txt'],
    ['dir', 'd'],
    ['file', 'd/b'],
    ['file', 'd/new'],
    ['dir', 'e'],
    ['file', 'e/f'],
    ['tombstone', 'gone'],
    ['tombstone', 'gone/x'],
    ['tombstone', 'gone/x/y'],
  ]);
  assertArchived(rig, 'run 2', s2);
  assert.deepEqual(whereIs(rig), {
    'a.txt': 2, d: 2, 'd/b': 2, 'd/new': 2, 'd/sub': 1, 'd/sub/c': 1, 'd/sub/keep': 1, 'd/sub/old': 1, e: 2, 'e/f': 2, empty: 1, link: 1, 't.txt': 1,
  });
  // Same plan again, with the catalog as it is now: nothing to do.
  const again = rig.plan(s2, ['--medium-size', '1M']);
  assert.deepEqual(again.actions, []);
  assert.deepEqual(again.header.archive.volumes, []);

  // Run 3: volume 1 is lost (--discard 1), descriptors compressed, a scan without hashes:
  // d/new only touched is stored again (size + exact mtime decide without hashes); d/sub/old,
  // deleted, was only on volume 1: nothing to record for it.
  fs.rmSync(rig.p('d/sub/old'));
  setTime(rig.p('d/new'), '2023-05-05 05:05:05');
  const p3 = rig.plan(rig.scan(false), ['--medium-size', '1M', '--discard', '1', '--compress']);
  const only1 = ['d', 'd/new', 'd/sub', 'd/sub/c', 'd/sub/keep', 'empty', 'link', 't.txt'];
  assert.deepEqual(opsOf(p3), only1.map((p) => ['store', p]));
  assert.deepEqual(p3.header.archive.discards, [1]);
  assert.equal(p3.header.archive.compress, true);
  rig.write(p3);
  assert.deepEqual(fs.readdirSync(rig.cat), ['vol-0001.ndjson', 'vol-0002.ndjson', 'vol-0003.ndjson.gz']);
  const d3 = readCatalog(rig.cat).find((d) => d.volume === 3)!;
  assert.equal(d3.gzip, true, 'vol-0003.ndjson.gz is gzip');
  assert.deepEqual(d3.header.discards, [1]);
  assertMembers(rig, 3, ['vol-0003.ndjson.gz', 'vol-0001.ndjson', 'vol-0002.ndjson'], only1);
  // The copy on the medium is gzip too, and the same descriptor.
  const onMedium = descriptorText(path.join(rig.volumeDir(3), '.cairn', 'vol-0003.ndjson.gz'));
  assert.equal(onMedium.gzip, true);
  assert.deepEqual(parseDescriptor(onMedium.text, 'medium copy').records, d3.records);
  // Volume 1 is lost: nothing may be read from it any more.
  fs.rmSync(rig.volumeDir(1), { recursive: true });
  assertArchived(rig, 'run 3');
  assert.deepEqual(whereIs(rig), {
    'a.txt': 2, d: 3, 'd/b': 2, 'd/new': 3, 'd/sub': 3, 'd/sub/c': 3, 'd/sub/keep': 3, e: 2, 'e/f': 2, empty: 3, link: 3, 't.txt': 3,
  });

  // Run 4, no --discard: volume 1 stays discarded (its d/sub/old is no deletion to record),
  // the compressed descriptor is read back (nothing of volume 3 is planned again).
  put('later', 'later\n', T0);
  const s4 = rig.scan(true);
  const before = catalogBytes(rig.cat);
  const stats = bash(`cairn-plan --archive --catalog ${q(rig.cat)} --format ${fmt} --medium-size 1M --stats ${q(s4)}`);
  assert.equal(stats.code, 0, stats.stderr);
  assert.equal(stats.stdout, `1 object (6 B) waits to be archived; 0 deletions to record; 1 medium of 1000000 bytes (${fmt}) needed\n`);
  assert.equal(stats.stderr, '');
  assert.deepEqual(catalogBytes(rig.cat), before, '--stats writes nothing');
  const p4 = rig.plan(s4, ['--medium-size', '1M']);
  assert.deepEqual(opsOf(p4), [['store', 'later']]);
  assert.deepEqual(p4.header.archive.discards, []);
  rig.write(p4);
  assert.deepEqual(fs.readdirSync(rig.cat), ['vol-0001.ndjson', 'vol-0002.ndjson', 'vol-0003.ndjson.gz', 'vol-0004.ndjson']);
  const d4 = readCatalog(rig.cat).find((d) => d.volume === 4)!;
  assert.equal(d4.gzip, false);
  assert.deepEqual(d4.header.discards, []);
  assertMembers(rig, 4, ['vol-0004.ndjson', 'vol-0001.ndjson', 'vol-0002.ndjson', 'vol-0003.ndjson.gz'], ['later']);
  assertArchived(rig, 'run 4', s4);

  // Run 5: nothing changed: no volume; naming 1 again records nothing new.
  const p5 = rig.plan(rig.scan(true), ['--medium-size', '1M', '--discard', '1']);
  assert.deepEqual(p5.actions, []);
  assert.deepEqual(p5.header.archive.volumes, []);
  assert.deepEqual(p5.header.archive.discards, []);
}

test('full cycle, --format tar + cairn-pack: changes, deletions, --discard, --compress; the catalog and the tars agree with the source', () => {
  fullCycle('tar');
});

test('full cycle, --format dir + cairn-apply --dst: changes, deletions, --discard, --compress; the catalog and the dirs agree with the source', () => {
  fullCycle('dir');
});

/** Three files of 100 kB, a newest and z oldest, for a medium of 150 kB that takes one at a time. */
function threeFiles(fmt: MediumFmt): ArchiveRig {
  const rig = new ArchiveRig(fmt, freshDir(TMP, 'sort-'));
  for (const [name, seed, time] of [
    ['a', 1, '2024-03-01 00:00:00'],
    ['m', 2, '2024-02-01 00:00:00'],
    ['z', 3, '2024-01-01 00:00:00'],
  ] as const) {
    fs.writeFileSync(rig.p(name), bytesOf(seed, 100_000));
    setTime(rig.p(name), time);
  }
  return rig;
}

test('--stats and --stats --verbose: exact summary, one line per waiting object with its medium, no plan, nothing written', () => {
  const rig = threeFiles('tar');
  const scan = rig.scan(true);
  const stats = (flags: string) => bash(`cairn-plan --archive --catalog ${q(rig.cat)} --format tar --medium-size 150k ${flags} ${q(scan)}`);
  const summary = '3 objects (293.0 KiB) wait to be archived; 0 deletions to record; 3 media of 150000 bytes (tar) needed\n';
  const plain = stats('--stats');
  assert.deepEqual([plain.code, plain.stdout, plain.stderr], [0, summary, '']);
  const time = stats('--stats --verbose');
  assert.deepEqual([time.code, time.stdout, time.stderr], [0, `   3         100000 a\n   2         100000 m\n   1         100000 z\n${summary}`, '']);
  const alpha = stats('--stats --verbose --sort alpha');
  assert.deepEqual([alpha.code, alpha.stdout, alpha.stderr], [0, `   1         100000 a\n   2         100000 m\n   3         100000 z\n${summary}`, '']);
  assert.deepEqual(fs.readdirSync(rig.cat), [], '--stats writes no descriptor');

  // One volume written (z); then z is deleted: one deletion to record, two files on two media.
  rig.write(rig.plan(scan, ['--medium-size', '150k'], 'cairn-plan: 2 objects wait for later volumes\n'));
  fs.rmSync(rig.p('z'));
  const scan2 = rig.scan(true);
  const before = catalogBytes(rig.cat);
  const after = bash(`cairn-plan --archive --catalog ${q(rig.cat)} --format tar --medium-size 150k --stats --verbose ${q(scan2)}`);
  assert.deepEqual(
    [after.code, after.stdout, after.stderr],
    [0, '   2         100000 a\n   1         100000 m\n2 objects (195.3 KiB) wait to be archived; 1 deletion to record; 2 media of 150000 bytes (tar) needed\n', ''],
  );
  assert.deepEqual(catalogBytes(rig.cat), before);
});

test('--stats --verbose marks every object that fits on no medium, as many as the summary and the plan say', () => {
  // A medium so small that the catalog files carried by each volume crowd out the later objects.
  const rig = new ArchiveRig('tar', freshDir(TMP, 'nowhere-'));
  for (const [name, seed, time] of [
    ['a', 1, '2024-03-01 00:00:00'],
    ['m', 2, '2024-02-01 00:00:00'],
    ['z', 3, '2024-01-01 00:00:00'],
  ] as const) {
    fs.writeFileSync(rig.p(name), bytesOf(seed, 5000));
    setTime(rig.p(name), time);
  }
  const scan = rig.scan(true);
  for (const size of ['14k', '15k']) {
    const r = bash(`cairn-plan --archive --catalog ${q(rig.cat)} --format tar --medium-size ${size} --stats --verbose ${q(scan)}`);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    const summary = lines.pop()!;
    assert.equal(lines.length, 3);
    const m = /; (\d+) objects? (?:does|do) not fit on any medium of this size/.exec(summary);
    const nowhere = m ? Number(m[1]) : 0;
    const unmarked = lines.filter((l) => !/^ {0,3}\d+ /.test(l));
    const plan = rig.planRaw(scan, ['--medium-size', size, '--volumes', '10']);
    const waits = /^cairn-plan: (\d+) objects? waits? for later volumes$/m.exec(plan.stderr);
    assert.deepEqual(
      { nowhere, marked: unmarked.length, planWaits: waits ? Number(waits[1]) : 0 },
      { nowhere: unmarked.length, marked: unmarked.length, planWaits: unmarked.length },
      `${size}: ${r.stdout}${plan.stderr}`,
    );
  }
});

test('--sort time stores the oldest file first, --sort alpha the first name, when not all fit', () => {
  const rig = threeFiles('tar');
  const scan = rig.scan(true);
  const time = rig.plan(scan, ['--medium-size', '150k', '--sort', 'time'], 'cairn-plan: 2 objects wait for later volumes\n');
  assert.deepEqual(opsOf(time), [['store', 'z']]);
  const alpha = rig.plan(scan, ['--medium-size', '150k', '--sort', 'alpha'], 'cairn-plan: 2 objects wait for later volumes\n');
  assert.deepEqual(opsOf(alpha), [['store', 'a']]);
  const dflt = rig.plan(scan, ['--medium-size', '150k'], 'cairn-plan: 2 objects wait for later volumes\n');
  assert.deepEqual(opsOf(dflt), [['store', 'z']], 'time is the default');

  // All three in one plan of three volumes, written by one cairn-pack -o PATTERN reading a pipe.
  const three = rig.plan(scan, ['--medium-size', '150k', '--volumes', '3']);
  assert.deepEqual(three.actions.map((a) => [a.volume, a.path]), [[1, 'z'], [2, 'm'], [3, 'a']]);
  const r = bash(`set -o pipefail; cat ${q(three.file)} | cairn-pack -o ${q(path.join(rig.media, 'vol-%04d.tar'))}`);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.deepEqual(fs.readdirSync(rig.cat), ['vol-0001.ndjson', 'vol-0002.ndjson', 'vol-0003.ndjson']);
  for (const [n, name] of [[1, 'z'], [2, 'm'], [3, 'a']] as const) {
    const tar = rig.tarFile(n);
    assert.ok(fs.statSync(tar).size <= 150_000, `vol ${n} fits the medium: ${fs.statSync(tar).size}`);
    assert.deepEqual(tarMembers(tar).filter((m) => !m.startsWith('.cairn')), [name]);
    extractTar(tar, rig.volumeDir(n));
  }
  assertArchived(rig, 'three volumes', scan);
});

function splitOverRuns(fmt: MediumFmt): void {
  const rig = new ArchiveRig(fmt, freshDir(TMP, 'split-'));
  fs.mkdirSync(rig.p('dd'));
  fs.writeFileSync(rig.p('dd/huge'), bytesOf(7, 500_000));
  setTime(rig.p('dd/huge'), T0);
  fs.writeFileSync(rig.p('s'), 'small\n');
  setTime(rig.p('s'), '2023-06-01 00:00:00');
  const scan = rig.scan(false);
  const unit = fmt === 'tar' ? 512 : 4096;
  let covered = 0;
  let run = 0;
  for (; run < 10; run++) {
    const p = rig.planRaw(scan, ['--medium-size', '200k', '--volumes', '1']);
    assert.equal(p.code, 0, p.stderr);
    if (p.header.archive.volumes.length === 0) {
      assert.deepEqual(p.actions, [], 'nothing planned once the file is complete');
      assert.equal(p.stderr, '');
      break;
    }
    const v = run + 1;
    const parts = p.actions.filter((a) => a.path === 'dd/huge');
    assert.equal(parts.length, 1, `run ${v}: one part per volume`);
    const part = parts[0]!.part as { offset: number; size: number };
    assert.equal(part.offset, covered, `run ${v}: the part goes on where the last stopped`);
    if (part.offset + part.size < 500_000) {
      assert.equal(part.size % unit, 0, `run ${v}: a part that is not the last is a multiple of ${unit}`);
      assert.ok(part.size >= 150_000, `run ${v}: the part fills the medium (${part.size})`);
      assert.deepEqual(opsOf(p), [['store', 'dd'], ['store', 'dd/huge']], `run ${v}: the rest waits`);
      assert.equal(p.stderr, 'cairn-plan: 2 objects wait for later volumes\n');
    } else {
      assert.deepEqual(opsOf(p), [['store', 'dd'], ['store', 'dd/huge'], ['store', 's']], `run ${v}: the last part and the small file`);
    }
    covered = part.offset + part.size;
    rig.write(p);
    const state = rig.state();
    assert.equal(state.get('dd/huge')!.incomplete, covered < 500_000 ? true : undefined, `run ${v}: split file complete?`);
    assert.deepEqual(
      rig.members(v).filter((m) => !m.startsWith('.cairn')),
      [...(covered < 500_000 ? ['dd', `dd/huge.cairn-part-${String(part.offset).padStart(15, '0')}`] : ['dd', `dd/huge.cairn-part-${String(part.offset).padStart(15, '0')}`, 's'])],
    );
    if (fmt === 'tar') assert.ok(fs.statSync(rig.tarFile(v)).size <= 200_000);
  }
  assert.equal(covered, 500_000);
  assert.equal(run, 3, 'three volumes of 200 kB for 500 kB');
  assertArchived(rig, 'split file joined from its parts');
}

test('a file larger than the medium is split over runs of one volume each, complete after enough runs (tar)', () => {
  splitOverRuns('tar');
});

test('a file larger than the medium is split over runs of one volume each, complete after enough runs (dir)', () => {
  splitOverRuns('dir');
});

for (const fmt of ['tar', 'dir'] as const) {
  test(`hard links are archived as links to the first path of the volume (${fmt})`, () => {
    const rig = new ArchiveRig(fmt, freshDir(TMP, 'links-'));
    fs.writeFileSync(rig.p('h1'), 'linked content\n');
    fs.mkdirSync(rig.p('x'));
    fs.linkSync(rig.p('h1'), rig.p('x/h2'));
    const p = rig.plan(rig.scan(false), ['--medium-size', '1M']);
    assert.deepEqual(p.actions.map((a) => [a.path, a.link]), [['h1', undefined], ['x', undefined], ['x/h2', 'h1']]);
    rig.write(p);
    const d = readCatalog(rig.cat)[0]!;
    assert.deepEqual(d.records.map((r) => [r.path, r.link]), [['h1', undefined], ['x', undefined], ['x/h2', 'h1']]);
    const st1 = fs.statSync(path.join(rig.volumeDir(1), 'h1'));
    const st2 = fs.statSync(path.join(rig.volumeDir(1), 'x/h2'));
    assert.equal(st2.ino, st1.ino, 'one inode on the medium');
    assertArchived(rig, 'hard links');
    assert.deepEqual(archivedState(readCatalog(rig.cat)).get('x/h2')!.hash, archivedState(readCatalog(rig.cat)).get('h1')!.hash);
  });
}
