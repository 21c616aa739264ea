import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { isRoot, records, run, smallTmpfs, tempDir } from '../helpers/run';
import { setTime } from '../helpers/tree';
import { actionsOf, assertNoActions, bash, bytesOf, mirror, pipeline, planMirror, q, rsyncDifferences, snapshot, tempLeftovers } from '../helpers/sync';

const KiB = 1024;

/** What a fatal ENOSPC looks like on stderr: one line naming the action's path. */
const enospcLine = (rel: string) => `cairn-apply: ${rel}: ENOSPC: no space left on device (stopped; temporary file removed)\n`;

test('a destination that fills up: exit 3, one line naming ENOSPC, no partial file, no temporary file; a rerun with room finishes', async (t) => {
  if (!isRoot) {
    t.skip('needs root to mount a 2 MiB tmpfs as the destination');
    return;
  }
  const src = tempDir('cairn-enospc-');
  fs.mkdirSync(path.join(src, 'docs'));
  fs.writeFileSync(path.join(src, 'docs', 'readme.txt'), 'small, goes first\n');
  fs.mkdirSync(path.join(src, 'media'));
  // 8 x 512 KiB = 4 MiB into 2 MiB.
  for (let i = 0; i < 8; i++) fs.writeFileSync(path.join(src, 'media', `f${i}.bin`), bytesOf(i + 1, 512 * KiB));
  fs.writeFileSync(path.join(src, 'zzz.txt'), 'after the big ones\n');
  const want = snapshot(src);
  const dst = smallTmpfs('2m');
  try {
    const r = pipeline([`cairn-diff ${q(src)} ${q(dst.dir)}`, 'cairn-plan --mirror', 'cairn-apply']);
    assert.deepEqual(r.codes, [0, 0, 3], r.stderr.join(''));
    assert.deepEqual(r.stderr.slice(0, 2), ['', '']);

    // Done actions are reported; the stream has no end record: the run did not finish.
    const results = records(r.stdout);
    assert.equal(results[0]!.cairn, 'results');
    assert.notDeepEqual(results.at(-1), { cairn: 'end' });
    const done = results.slice(1);
    for (const a of done) assert.equal(a.status, 'done', JSON.stringify(a));
    const copied = done.filter((a) => a.op === 'copy').map((a) => a.path as string);
    assert.ok(copied.includes('docs/readme.txt') && copied.includes('media/f0.bin'), `copied: ${copied.join(' ')}`);
    // The action that failed is the copy after the last one done, and stderr names it, in one line.
    const order = ['docs/readme.txt', ...Array.from({ length: 8 }, (_, i) => `media/f${i}.bin`), 'zzz.txt'];
    const failed = order[order.indexOf(copied.at(-1)!) + 1]!;
    assert.ok(failed.startsWith('media/'), `ENOSPC only after ${copied.at(-1)}?`);
    assert.equal(r.stderr[2], enospcLine(failed));

    const after = snapshot(dst.dir);
    assert.deepEqual(tempLeftovers(dst.dir), [], 'temporary files left on the full destination');
    // Every file there is whole (exactly the source's bytes), and just those reported done are there.
    for (const rel of after.keys()) assert.ok(want.has(rel), `${rel} is not in the source`);
    const files = [...after].filter(([, o]) => o.type === 'file');
    for (const [rel, o] of files) assert.deepEqual(o, want.get(rel), `${rel} is not the source's file`);
    assert.deepEqual(files.map(([rel]) => rel).sort(), [...copied].sort());
    assert.ok(!after.has('zzz.txt'), 'the run went on after ENOSPC');

    // With room, the next run finishes the mirror.
    const grown = bash(`mount -o remount,size=8m ${q(dst.dir)}`);
    assert.equal(grown.code, 0, grown.stderr);
    mirror(src, dst.dir);
    assert.equal(rsyncDifferences(src, dst.dir), '');
    assertNoActions(planMirror(src, dst.dir));
  } finally {
    dst.unmount();
  }
});

test('no room to replace a file: the old file stays whole, exit 3, no temporary file', async (t) => {
  if (!isRoot) {
    t.skip('needs root to mount a 2 MiB tmpfs as the destination');
    return;
  }
  const src = tempDir('cairn-enospc-');
  const oldBytes = bytesOf(10, 1280 * KiB);
  const newBytes = bytesOf(11, 1280 * KiB);
  fs.writeFileSync(path.join(src, 'big.bin'), newBytes);
  fs.writeFileSync(path.join(src, 'small.txt'), 'fits\n');
  const dst = smallTmpfs('2m');
  try {
    // An older version of the same size: the update's temporary copy does not fit beside it.
    fs.writeFileSync(path.join(dst.dir, 'big.bin'), oldBytes);
    setTime(path.join(dst.dir, 'big.bin'), '2020-01-01 00:00:01.5');
    const plan = planMirror(src, dst.dir);
    assert.deepEqual(actionsOf(plan).map((a) => [a.op, a.path]), [['update', 'big.bin'], ['copy', 'small.txt'], ['meta', '.']]);
    const planFile = path.join(tempDir('cairn-enospc-'), 'plan');
    fs.writeFileSync(planFile, plan);
    const applied = pipeline([`cairn-apply ${q(planFile)}`]);
    assert.deepEqual(applied.codes, [3]);
    assert.equal(applied.stderr[0], enospcLine('big.bin'));
    assert.deepEqual(records(applied.stdout).map((x) => x.cairn ?? x.op), ['results']);
    assert.ok(fs.readFileSync(path.join(dst.dir, 'big.bin')).equals(oldBytes), 'the old big.bin is not whole');
    assert.deepEqual(fs.readdirSync(dst.dir).sort(), ['big.bin']);
  } finally {
    dst.unmount();
  }
});

test('no inode left (tmpfs nr_inodes): the same fatal ENOSPC, nothing half made', async (t) => {
  if (!isRoot) {
    t.skip('needs root to mount a tmpfs as the destination');
    return;
  }
  const src = tempDir('cairn-enospc-');
  fs.mkdirSync(path.join(src, 'a'));
  for (let i = 10; i < 40; i++) fs.writeFileSync(path.join(src, 'a', `f${i}`), `file ${i}\n`);
  const want = snapshot(src);
  const dst = smallTmpfs('2m,nr_inodes=12');
  try {
    const r = pipeline([`cairn-diff ${q(src)} ${q(dst.dir)}`, 'cairn-plan --mirror', 'cairn-apply']);
    assert.deepEqual(r.codes, [0, 0, 3], r.stderr.join(''));
    const done = records(r.stdout).slice(1);
    const last = done.at(-1)!.path as string;
    assert.match(last, /^a\/f\d\d$/);
    assert.equal(r.stderr[2], enospcLine(`a/f${Number(last.slice(3)) + 1}`));
    const after = snapshot(dst.dir);
    assert.deepEqual([...after.keys()].sort(), ['a', ...done.filter((x) => x.op === 'copy').map((x) => x.path as string)].sort());
    for (const [rel, o] of after) assert.deepEqual(o, want.get(rel), rel);
  } finally {
    dst.unmount();
  }
});

test('large files copied several at once: ENOSPC still stops with exit 3, no partial file, no temporary file', async (t) => {
  if (!isRoot) {
    t.skip('needs root to mount a tmpfs as the destination');
    return;
  }
  const src = tempDir('cairn-enospc-');
  // 6 x 9 MiB (above the size copied in parallel) into 24 MiB: some land, then the disk is full.
  for (let i = 0; i < 6; i++) fs.writeFileSync(path.join(src, `big${i}.bin`), bytesOf(i + 1, 9 * 1024 * KiB));
  const want = snapshot(src);
  const dst = smallTmpfs('24m');
  try {
    const r = pipeline([`cairn-diff ${q(src)} ${q(dst.dir)}`, 'cairn-plan --mirror', 'cairn-apply']);
    assert.deepEqual(r.codes, [0, 0, 3], r.stderr.join(''));
    assert.match(r.stderr[2]!, /^cairn-apply: big\d\.bin: ENOSPC: no space left on device \(stopped; temporary file removed\)\n$/);
    assert.deepEqual(tempLeftovers(dst.dir), [], 'temporary files left on the full destination');
    const after = snapshot(dst.dir);
    assert.ok(after.size >= 1 && after.size < 6, `${after.size} files landed`);
    for (const [rel, o] of after) assert.deepEqual(o, want.get(rel), `${rel} is not the source's file`);
    const results = records(r.stdout).slice(1);
    assert.deepEqual(results.map((x) => x.path), [...results.map((x) => x.path)].sort(), 'results in plan order');
    bash(`mount -o remount,size=80m ${q(dst.dir)}`);
    mirror(src, dst.dir);
    assert.equal(rsyncDifferences(src, dst.dir), '');
  } finally {
    dst.unmount();
  }
});

test('no room in TMPDIR for the copy of a plan: exit 3, one line naming TMPDIR and the plan, nothing done, nothing left there', async (t) => {
  if (!isRoot) {
    t.skip('needs root to mount a small tmpfs as TMPDIR');
    return;
  }
  const src = tempDir('cairn-enospc-');
  // Long names: a plan of about 1 MiB, into a TMPDIR of 256 KiB.
  for (let i = 0; i < 2000; i++) fs.writeFileSync(path.join(src, `${'n'.repeat(200)}${i}`), `${i}\n`);
  const dst = tempDir('cairn-enospc-dst-');
  const plan = path.join(tempDir('cairn-enospc-plan-'), 'plan.ndjson');
  const made = bash(`set -o pipefail; cairn-diff ${q(src)} ${q(dst)} | cairn-plan --mirror > ${q(plan)}`);
  assert.equal(made.code, 0, made.stderr);
  assert.ok(fs.statSync(plan).size > 512 * KiB);
  const tmp = smallTmpfs('256k');
  try {
    for (const [how, args, input] of [
      ['a file', [plan], undefined],
      ['standard input', [], fs.readFileSync(plan)],
    ] as const) {
      const r = await run('cairn-apply', args, { env: { ...process.env, TMPDIR: tmp.dir }, ...(input !== undefined ? { input } : {}) });
      assert.equal(r.code, 3, `${how}: ${r.stderr}`);
      const named = how === 'a file' ? plan : 'standard input';
      assert.equal(r.stderr, `cairn-apply: ${tmp.dir}: ENOSPC: no space left on device (writing the copy of ${named} kept while it is read; TMPDIR names another place)\n`);
      assert.equal(r.stdout, '', `${how}: nothing reported, nothing done`);
      assert.deepEqual(fs.readdirSync(dst), [], `${how}: the destination is untouched`);
      assert.deepEqual(fs.readdirSync(tmp.dir), [], `${how}: nothing left in TMPDIR`);
    }
  } finally {
    tmp.unmount();
  }
});
