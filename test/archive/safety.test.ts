import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test, type TestContext } from 'node:test';
import { BIN, tempDir } from '../helpers/run';
import { setTime } from '../helpers/tree';
import { TEMP_PREFIX, badFiles, bash, q, snapshot } from '../helpers/sync';
import { ArchiveRig, assertArchived, catalogBytes, freshDir, opsOf, readCatalog, type MediumFmt } from '../helpers/archive';

/*
 * Data safety of the incremental archive, with the real executables: bad
 * input is refused before anything is written, a volume enters the
 * catalog only once its medium is complete, and what the catalog records
 * is what the medium holds.
 */

const TMP = tempDir('cairn-archive-');
const T0 = '2023-01-01 00:00:00';

/** A rig whose catalog holds volume 1 (files a and b), and a scan with c added. */
function withVolume1(fmt: MediumFmt): { rig: ArchiveRig; scan2: string; plan1: string } {
  const rig = new ArchiveRig(fmt, freshDir(TMP, `safety-${fmt}-`));
  for (const n of ['a', 'b']) {
    fs.writeFileSync(rig.p(n), `${n}\n`);
    setTime(rig.p(n), T0);
  }
  const plan1 = rig.plan(rig.scan(true), ['--medium-size', '1M']);
  rig.write(plan1);
  fs.writeFileSync(rig.p('c'), 'c\n');
  setTime(rig.p('c'), T0);
  return { rig, scan2: rig.scan(true), plan1: plan1.file };
}

/** Names of cairn's temporary files directly in dir. */
function temps(dir: string): string[] {
  return fs.readdirSync(dir).filter((n) => n.startsWith(TEMP_PREFIX));
}

test('bad input to cairn-plan --archive: exit 2, one line naming file, line and field, no plan, catalog unchanged', () => {
  const { rig, scan2 } = withVolume1('tar');
  const before = catalogBytes(rig.cat);
  const lines = fs.readFileSync(scan2, 'utf8').split('\n');
  // Entries a, b, c: b and a swapped, so line 3 (a) comes after b.
  const swapped = path.join(rig.base, 'swapped.ndjson');
  fs.writeFileSync(swapped, [lines[0], lines[2], lines[1], ...lines.slice(3)].join('\n'));
  // A catalog whose descriptor was edited: line 2 carries a hash of another algorithm.
  const badCat = path.join(rig.base, 'badcat');
  fs.mkdirSync(badCat);
  const d1 = fs.readFileSync(path.join(rig.cat, 'vol-0001.ndjson'), 'utf8').split('\n');
  d1[1] = d1[1]!.replace('"hash":"sha256:', '"hash":"md5:');
  fs.writeFileSync(path.join(badCat, 'vol-0001.ndjson'), d1.join('\n'));
  const badBefore = catalogBytes(badCat);
  const cases: [string, string, string][] = [
    ['out of order', `--catalog ${q(rig.cat)} --medium-size 1M ${q(swapped)}`, `cairn-plan: ${swapped}:3: path: out of canonical order (after "b")\n`],
    ['junk size', `--catalog ${q(rig.cat)} --medium-size 4.7Q ${q(scan2)}`, 'cairn-plan: --medium-size 4.7Q: not a size (bytes, 4.7G, 700Mi, or one of cd, dvd, dvd-dl, bd, bd-dl)\n'],
    ['zero size', `--catalog ${q(rig.cat)} --medium-size 0 ${q(scan2)}`, 'cairn-plan: --medium-size 0: not a size (bytes, 4.7G, 700Mi, or one of cd, dvd, dvd-dl, bd, bd-dl)\n'],
    ['discard missing volume', `--catalog ${q(rig.cat)} --medium-size 1M --discard 99 ${q(scan2)}`, 'cairn-plan: --discard 99: the catalog has no volume 99\n'],
    ['no catalog', `--medium-size 1M ${q(scan2)}`, 'cairn-plan: --archive: needs --catalog DIR\n'],
    ['no medium size', `--catalog ${q(rig.cat)} ${q(scan2)}`, 'cairn-plan: --archive: needs --medium-size SIZE\n'],
    ['bad descriptor', `--catalog ${q(badCat)} --medium-size 1M ${q(scan2)}`, `cairn-plan: ${path.join(badCat, 'vol-0001.ndjson')}:2: hash: not a md5 hex digest\n`],
  ];
  for (const [what, args, stderr] of cases) {
    const r = bash(`cairn-plan --archive --format tar ${args}`);
    assert.deepEqual([r.code, r.stdout, r.stderr], [2, '', stderr], what);
    assert.deepEqual(catalogBytes(rig.cat), before, `${what}: catalog unchanged`);
  }
  assert.deepEqual(catalogBytes(badCat), badBefore);
});

test('an edited archive plan is refused whole by cairn-pack and cairn-apply --dst: exit 2, nothing written, catalog unchanged', () => {
  for (const fmt of ['tar', 'dir'] as const) {
    const { rig, scan2 } = withVolume1(fmt);
    const plan = rig.plan(scan2, ['--medium-size', '1M']);
    assert.deepEqual(opsOf(plan), [['store', 'c']]);
    const before = catalogBytes(rig.cat);
    const cmd = fmt === 'tar' ? 'cairn-pack' : 'cairn-apply';
    const edits: [string, (t: string) => string, RegExp][] = [
      ['unknown op', (t) => t.replace('"op":"store"', '"op":"stor"'), /^op: unknown op "stor" \(one of .*store, tombstone\)$/],
      ['op of another mode', (t) => t.replace('"op":"store"', '"op":"copy"'), /^volume: not allowed on copy$/],
      ['tombstone with a body', (t) => t.replace('"op":"store"', '"op":"tombstone"'), /^src: not allowed on tombstone$/],
    ];
    for (const [what, edit, why] of edits) {
      const bad = path.join(rig.base, `edited-${what.replace(/ /g, '-')}.ndjson`);
      fs.writeFileSync(bad, edit(plan.text));
      const r = rig.writeRaw(bad, 2);
      assert.equal(r.code, 2, `${fmt} ${what}: ${r.stderr}`);
      const prefix = `${cmd}: ${bad}:2: `;
      assert.ok(r.stderr.startsWith(prefix) && r.stderr.endsWith('\n') && r.stderr.split('\n').length === 2, `${fmt} ${what}: one line naming file and line: ${r.stderr}`);
      assert.match(r.stderr.slice(prefix.length, -1), why, `${fmt} ${what}`);
      assert.equal(r.stdout, '');
      assert.deepEqual(catalogBytes(rig.cat), before, `${fmt} ${what}: catalog unchanged`);
      if (fmt === 'tar') assert.equal(fs.existsSync(rig.tarFile(2)), false, `${what}: no tar`);
      else assert.deepEqual(fs.readdirSync(rig.volumeDir(2)), [], `${what}: nothing in --dst`);
      assert.deepEqual(temps(rig.media), []);
    }
  }
});

test('a top-level .cairn in the source is refused (exit 2); deeper, .cairn is an ordinary name', () => {
  const rig = new ArchiveRig('tar', freshDir(TMP, 'dotcairn-'));
  fs.mkdirSync(rig.p('.cairn'));
  fs.writeFileSync(rig.p('.cairn/vol-0001.ndjson'), 'not ours\n');
  fs.mkdirSync(rig.p('sub/.cairn'), { recursive: true });
  fs.writeFileSync(rig.p('sub/.cairn/y'), 'y\n');
  const scan = rig.scan(true);
  const r = rig.planRaw(scan, ['--medium-size', '1M']);
  assert.deepEqual(
    [r.code, r.text, r.stderr],
    [2, '', `cairn-plan: ${scan}:2: path: .cairn is where media keep their catalog: leave it out of the source (cairn-scan --exclude /.cairn)\n`],
  );
  assert.deepEqual(fs.readdirSync(rig.cat), []);
  fs.rmSync(rig.p('.cairn'), { recursive: true });
  const p = rig.plan(rig.scan(true), ['--medium-size', '1M']);
  assert.deepEqual(opsOf(p), [['store', 'sub'], ['store', 'sub/.cairn'], ['store', 'sub/.cairn/y']]);
  rig.write(p);
  assertArchived(rig, 'sub/.cairn archived');
});

test('cairn-apply of an archive plan without --dst: exit 2, nothing done', () => {
  const { rig, scan2 } = withVolume1('dir');
  const plan = rig.plan(scan2, ['--medium-size', '1M']);
  const before = catalogBytes(rig.cat);
  const names = fs.readdirSync(rig.base).sort();
  const media = catalogBytes(rig.media);
  const r = bash(`cd ${q(rig.base)} && cairn-apply ${q(plan.file)}`);
  assert.deepEqual(
    [r.code, r.stdout, r.stderr],
    [2, '', "cairn-apply: an archive plan is laid out into a directory: give --dst DIR (the plan's destination is its catalog)\n"],
  );
  assert.deepEqual(catalogBytes(rig.cat), before);
  assert.deepEqual(fs.readdirSync(rig.base).sort(), names, 'nothing written beside the plan');
  assert.deepEqual(catalogBytes(rig.media), media);
});

test('the same plan written twice: the second run is refused (exit 2), the first medium and the catalog unchanged', () => {
  for (const fmt of ['tar', 'dir'] as const) {
    const { rig, scan2, plan1 } = withVolume1(fmt);
    // Two plans for volume 2 from one catalog: the second is out of date once the first is written.
    const p2 = rig.plan(scan2, ['--medium-size', '1M']);
    const p2b = rig.plan(scan2, ['--medium-size', '1M']);
    rig.write(p2);
    const before = catalogBytes(rig.cat);
    const media = catalogBytes(rig.media);
    const medium2 = snapshot(rig.volumeDir(2));
    const other = path.join(rig.media, fmt === 'tar' ? 'other.tar' : 'other');
    if (fmt === 'dir') fs.mkdirSync(other);
    // p2 into the very same -o file or --dst dir; p2b and the plan of volume 1 into another.
    for (const [p, out, v] of [[p2.file, fmt === 'tar' ? rig.tarFile(2) : rig.volumeDir(2), 2], [p2b.file, other, 2], [plan1, other, 1]] as const) {
      const r = fmt === 'tar' ? bash(`cairn-pack -o ${q(out)} ${q(p)}`) : bash(`cairn-apply --dst ${q(out)} ${q(p)}`);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`^cairn-${fmt === 'tar' ? 'pack' : 'apply'}: .*: volume ${v} is already in the catalog: the plan is out of date \\(plan again\\)\n$`));
      assert.equal(r.stdout, '');
      assert.deepEqual(catalogBytes(rig.cat), before, 'catalog unchanged');
    }
    if (fmt === 'dir') {
      assert.deepEqual(fs.readdirSync(other), [], 'nothing written into --dst');
      fs.rmdirSync(other);
    }
    assert.deepEqual(catalogBytes(rig.media), media, 'the first tar untouched, no other file');
    assert.deepEqual(snapshot(rig.volumeDir(2)), medium2);
  }
});

/** Runs a cairn command and SIGKILLs it as soon as ready() says so (checked between event-loop turns). */
async function killWhen(cmd: string, args: string[], ready: () => boolean): Promise<{ killed: boolean; stderr: string }> {
  const child = spawn(path.join(BIN, cmd), args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let exited = false;
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  child.on('exit', () => (exited = true));
  let killed = false;
  const deadline = Date.now() + 60_000;
  while (!exited && Date.now() < deadline) {
    if (ready()) {
      killed = child.kill('SIGKILL');
      break;
    }
    await new Promise((r) => setImmediate(r));
  }
  await closed;
  return { killed: killed && child.signalCode === 'SIGKILL', stderr };
}

const BIG = 96 << 20;

/** Volume 1 written; then 20 small files, one of 96 MiB, 20 more: the scan of volume 2's source. */
function bigVolume2(fmt: MediumFmt): { rig: ArchiveRig; scan: string } {
  const { rig } = withVolume1(fmt);
  for (let i = 1; i <= 20; i++) fs.writeFileSync(rig.p(`a${String(i).padStart(2, '0')}`), `small ${i}\n`);
  fs.writeFileSync(rig.p('m-big'), Buffer.alloc(BIG, 0x5a));
  for (let i = 1; i <= 20; i++) fs.writeFileSync(rig.p(`z${String(i).padStart(2, '0')}`), `small ${i}\n`);
  return { rig, scan: rig.scan(true) };
}

test('kill -9 of cairn-apply --dst in the middle of a large file: catalog unchanged, no partial file, a rerun into a fresh dir succeeds', async (t: TestContext) => {
  const { rig, scan } = bigVolume2('dir');
  const plan = rig.plan(scan, ['--medium-size', '1G']);
  assert.equal(plan.actions.length, 42);
  const before = catalogBytes(rig.cat);
  const killedDir = path.join(rig.media, 'killed');
  fs.mkdirSync(killedDir);
  // Small files a01..a20 come first: once a20 is there the 96 MiB file is being copied.
  const k = await killWhen('cairn-apply', ['--dst', killedDir, plan.file], () => fs.readdirSync(killedDir).includes('a20'));
  assert.ok(k.killed, `cairn-apply ended before the kill: ${k.stderr}`);
  t.diagnostic(`killed with ${fs.readdirSync(killedDir).length} names in --dst: ${fs.readdirSync(killedDir).filter((n) => !/^[az]\d\d$/.test(n)).join(' ')}`);
  const catNow = catalogBytes(rig.cat);
  assert.deepEqual(Object.keys(catNow).filter((n) => !n.startsWith(TEMP_PREFIX)), Object.keys(before), 'no descriptor committed');
  for (const n of Object.keys(before)) assert.equal(catNow[n], before[n], `${n} unchanged`);
  const killedSnap = new Map([...snapshot(killedDir)].filter(([rel]) => rel !== '.cairn' && !rel.startsWith('.cairn/')));
  assert.deepEqual(badFiles(killedSnap, snapshot(rig.src)), [], 'no partial or foreign file under a final name');

  // The rerun, into a fresh directory: complete, committed, the dead run's temp descriptor cleaned.
  rig.write(plan);
  assert.deepEqual(fs.readdirSync(rig.cat).sort(), ['vol-0001.ndjson', 'vol-0002.ndjson']);
  assertArchived(rig, 'after the rerun');
  fs.rmSync(rig.base, { recursive: true });
});

test('kill -9 of cairn-pack -o in the middle of a large file: catalog unchanged, no file under the -o name; the rerun succeeds and leaves no temporary file', async () => {
  const { rig, scan } = bigVolume2('tar');
  const plan = rig.plan(scan, ['--medium-size', '1G']);
  const before = catalogBytes(rig.cat);
  const out = rig.tarFile(2);
  const k = await killWhen('cairn-pack', ['-o', out, plan.file], () => temps(rig.media).some((n) => fs.statSync(path.join(rig.media, n)).size > 8 << 20));
  assert.ok(k.killed, `cairn-pack ended before the kill: ${k.stderr}`);
  assert.equal(fs.existsSync(out), false, 'nothing under the -o name');
  const catNow = catalogBytes(rig.cat);
  assert.deepEqual(Object.keys(catNow).filter((n) => !n.startsWith(TEMP_PREFIX)), Object.keys(before), 'no descriptor committed');
  for (const n of Object.keys(before)) assert.equal(catNow[n], before[n], `${n} unchanged`);

  rig.write(plan);
  assert.deepEqual(fs.readdirSync(rig.cat).sort(), ['vol-0001.ndjson', 'vol-0002.ndjson']);
  assertArchived(rig, 'after the rerun');
  try {
    assert.deepEqual(temps(rig.media), [], 'the killed run\'s temporary tar is cleaned by the next run');
  } finally {
    fs.rmSync(rig.base, { recursive: true });
  }
});

test('a rerun into the directory of a killed cairn-apply --dst does not commit a volume that lacks what is there', () => {
  const { rig, scan2 } = withVolume1('dir');
  const plan = rig.plan(scan2, ['--medium-size', '1M']);
  const before = catalogBytes(rig.cat);
  // What a run killed just before its commit leaves: every object in place, the catalog without volume 2.
  fs.mkdirSync(rig.volumeDir(2));
  assert.equal(bash(`cp -a ${q(rig.src)}/. ${q(rig.volumeDir(2))}/`).code, 0);
  const r = rig.writeRaw(plan, 2);
  if (r.code === 2) {
    assert.deepEqual(catalogBytes(rig.cat), before, 'refused: catalog unchanged');
  } else {
    assert.equal(r.code, 0, `either refused (exit 2) or completed (exit 0): exit ${r.code}: ${r.stderr}`);
    assertArchived(rig, 'resumed');
  }
});

for (const fmt of ['tar', 'dir'] as const) {
  test(`files deleted or changed between plan and ${fmt === 'tar' ? 'cairn-pack' : 'cairn-apply --dst'}: left out, reported, exit 1, not in the descriptor, planned again`, () => {
    const { rig } = withVolume1(fmt);
    for (const n of ['del', 'keep', 'mod']) {
      fs.writeFileSync(rig.p(n), `${n}\n`);
      setTime(rig.p(n), T0);
    }
    const plan = rig.plan(rig.scan(true), ['--medium-size', '1M']);
    assert.deepEqual(opsOf(plan), [['store', 'c'], ['store', 'del'], ['store', 'keep'], ['store', 'mod']]);
    fs.rmSync(rig.p('del'));
    fs.writeFileSync(rig.p('mod'), 'modified\n');
    const r = rig.writeRaw(plan, 2);
    assert.equal(r.code, 1, r.stderr);
    const cmd = fmt === 'tar' ? 'cairn-pack' : 'cairn-apply';
    const errs = r.stderr.trimEnd().split('\n');
    assert.ok(errs.includes(`${cmd}: del: ENOENT: no such file or directory: left out of volume 2 (the next volume stores it)`), r.stderr);
    assert.ok(errs.includes(`${cmd}: mod: size 9, planned 4: left out of volume 2 (the next volume stores it)`), r.stderr);
    assert.ok(errs.every((l) => /^cairn-(pack|apply): (del|mod): /.test(l)), `nothing else reported: ${r.stderr}`);
    if (fmt === 'dir') {
      const res = Object.fromEntries(r.stdout.trimEnd().split('\n').slice(1, -1).map((l) => JSON.parse(l) as Record<string, unknown>).map((x) => [x.path, x.status]));
      assert.deepEqual(res, { c: 'done', del: 'stale', keep: 'done', mod: 'stale' });
    }
    const d2 = readCatalog(rig.cat).find((d) => d.volume === 2)!;
    assert.deepEqual(d2.records.map((x) => x.path), ['c', 'keep'], 'the catalog records what the medium holds');
    assert.deepEqual(rig.members(2).filter((m) => !m.startsWith('.cairn')), ['c', 'keep'], 'the medium holds neither');
    // Next run: mod planned again; del, gone from the source and never archived, needs nothing.
    const again = rig.plan(rig.scan(true), ['--medium-size', '1M']);
    assert.deepEqual(opsOf(again), [['store', 'mod']]);
    // Back in the source: planned again.
    fs.writeFileSync(rig.p('del'), 'del\n');
    const third = rig.plan(rig.scan(true), ['--medium-size', '1M']);
    assert.deepEqual(opsOf(third), [['store', 'del'], ['store', 'mod']]);
    rig.write(third);
    assertArchived(rig, 'after the next volume');
  });
}

test('cairn-apply --dst: a file rewritten after the plan with the same size and mtime is not recorded with the planned hash', () => {
  const rig = new ArchiveRig('dir', freshDir(TMP, 'samesize-'));
  const TIME = '2024-01-01 00:00:00.123456789';
  fs.writeFileSync(rig.p('f'), 'aaaa\n');
  setTime(rig.p('f'), TIME);
  fs.writeFileSync(rig.p('g'), 'g\n');
  const plan = rig.plan(rig.scan(true), ['--medium-size', '1M']);
  fs.writeFileSync(rig.p('f'), 'bbbb\n');
  setTime(rig.p('f'), TIME);
  const r = rig.writeRaw(plan, 1);
  const rec = readCatalog(rig.cat)[0]?.records.find((x) => x.path === 'f');
  const onMedium = fs.existsSync(path.join(rig.volumeDir(1), 'f')) ? `sha256:${createHash('sha256').update(fs.readFileSync(path.join(rig.volumeDir(1), 'f'))).digest('hex')}` : undefined;
  assert.ok(rec === undefined || rec.hash === onMedium, `the catalog records ${rec?.hash} for f, the medium holds ${onMedium}`);
  assert.equal(r.code, 1, `the change is reported (as cairn-pack does): ${r.stderr}`);
  assert.match(r.stderr, /^cairn-apply: f: /m);
});

test('nothing under a directory the scan could not read is tombstoned', () => {
  const rig = new ArchiveRig('tar', freshDir(TMP, 'unreadable-'));
  fs.mkdirSync(rig.p('secret/sub'), { recursive: true });
  for (const [n, c] of [['secret/a', '1'], ['secret/sub/b', '2'], ['other', '3'], ['zz', '4']]) fs.writeFileSync(rig.p(n!), `${c}\n`);
  rig.write(rig.plan(rig.scan(true), ['--medium-size', '1M']));
  fs.rmSync(rig.p('other'));
  fs.writeFileSync(rig.p('new'), 'new\n');
  // As a scan by a user who cannot list secret/ says it: the dir with an error, nothing under it.
  const unreadable = (text: string) =>
    text
      .split('\n')
      .filter((l) => !l.startsWith('{"path":"secret/'))
      .map((l) => (l.startsWith('{"path":"secret","type":"dir"') ? l.replace('"type":"dir"', '"type":"dir","error":"EACCES: permission denied"') : l))
      .join('\n');
  const edited = path.join(rig.base, 'edited.ndjson');
  fs.writeFileSync(edited, unreadable(fs.readFileSync(rig.scan(true), 'utf8')));
  assert.match(fs.readFileSync(edited, 'utf8'), /"path":"secret","type":"dir","error":"EACCES: permission denied"/);
  const p = rig.plan(edited, ['--medium-size', '1M']);
  assert.deepEqual(opsOf(p), [['store', 'new'], ['tombstone', 'other']]);
  // The unreadable dir last in the stream: still nothing under it.
  fs.rmSync(rig.p('new'));
  fs.rmSync(rig.p('zz'));
  fs.writeFileSync(edited, unreadable(fs.readFileSync(rig.scan(true), 'utf8')));
  const last = rig.plan(edited, ['--medium-size', '1M'], 'cairn-plan: nothing new to store; 2 deletions wait for the next volume\n');
  assert.deepEqual(last.actions, []);
  // Readable again, secret/a really gone: now it is a deletion.
  fs.rmSync(rig.p('secret/a'));
  fs.writeFileSync(rig.p('new'), 'new\n');
  const readable = rig.plan(rig.scan(true), ['--medium-size', '1M']);
  assert.deepEqual(opsOf(readable), [['store', 'new'], ['tombstone', 'other'], ['tombstone', 'secret/a'], ['tombstone', 'zz']]);
});
