import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { records, run, sh } from '../helpers/run';
import { bytesOf, q, rsyncDifferences, srcDst } from '../helpers/sync';
import { fileReader } from '../../lib/tree/local/native';

/**
 * cairn-apply copies new small files a batch at a time in the addon's
 * thread (lib/apply/copy-queue.ts, native/copy-files.c); CAIRN_NATIVE=0
 * copies them one by one in node. Both must give the same results, the
 * same tree, and the same refusals.
 */

function plan(src: string, dst: string): string {
  const r = sh(`set -o pipefail; cairn-diff ${q(src)} ${q(dst)} | cairn-plan --mirror --max-delete=off`);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

/** Results without the header's creation time. */
function results(stdout: string): Record<string, unknown>[] {
  return records(stdout).map((x) => (x.cairn === 'results' ? { ...x, created: undefined, dst: undefined, plan: undefined } : x));
}

test('the addon is there for these tests to test it', () => {
  assert.ok(fileReader !== undefined, 'make did not build native/');
});

for (const native of ['1', '0']) {
  const env = { ...process.env, CAIRN_NATIVE: native };

  test(`CAIRN_NATIVE=${native}: a tree of small files in several batches and directories: results in plan order, rsync finds nothing`, async () => {
    const { src, dst } = srcDst();
    for (let d = 0; d < 3; d++) {
      fs.mkdirSync(path.join(src, `d${d}`));
      for (let i = 0; i < 150; i++) fs.writeFileSync(path.join(src, `d${d}`, `f${i}`), bytesOf(d * 1000 + i, (i * 131) % 5000));
      fs.symlinkSync(`f${d}`, path.join(src, `d${d}`, 'link'));
    }
    fs.writeFileSync(path.join(src, 'exec'), '#!/bin/sh\n', { mode: 0o750 });
    // A sparse file the queue hands back, to be copied with its holes.
    const sparse = path.join(src, 'sparse');
    fs.writeFileSync(sparse, 'head');
    fs.truncateSync(sparse, 4 << 20);
    fs.linkSync(path.join(src, 'd1', 'f7'), path.join(src, 'hard'));
    const p = plan(src, dst);
    const r = await run('cairn-apply', [], { input: p, env });
    assert.equal(r.code, 0, r.stderr);
    const res = results(r.stdout);
    const planned = records(p).filter((x) => x.op !== undefined);
    assert.deepEqual(
      res.filter((x) => x.op !== undefined).map((x) => [x.op, x.path, x.status]),
      planned.map((x) => [x.op, x.path, 'done']),
    );
    assert.equal(rsyncDifferences(src, dst), '');
    assert.ok(fs.statSync(path.join(dst, 'sparse')).blocks * 512 < 1 << 20, 'the sparse file stays sparse');
    assert.equal(fs.statSync(path.join(dst, 'hard')).ino, fs.statSync(path.join(dst, 'd1', 'f7')).ino);
    // Times to the nanosecond with the addon (futimens); to the microsecond through node's utimes.
    const ns = (f: string) => fs.statSync(f, { bigint: true }).mtimeNs;
    const step = native === '1' ? 1n : 1000n;
    for (const f of ['exec', 'd2/f149']) assert.equal(ns(path.join(dst, f)) / step, ns(path.join(src, f)) / step, f);
    assert.equal(fs.statSync(path.join(dst, 'exec')).mode & 0o7777, 0o750);
  });

  test(`CAIRN_NATIVE=${native}: what changed since the plan is refused, stale, untouched, and no temporary file is left`, async () => {
    const { src, dst } = srcDst();
    for (const n of ['grown', 'now-dir', 'taken', 'fine']) fs.writeFileSync(path.join(src, n), n);
    const p = plan(src, dst);
    fs.writeFileSync(path.join(src, 'grown'), 'grown since the scan');
    fs.rmSync(path.join(src, 'now-dir'));
    fs.mkdirSync(path.join(src, 'now-dir'));
    fs.writeFileSync(path.join(dst, 'taken'), 'someone put this here');
    const r = await run('cairn-apply', [], { input: p, env });
    assert.equal(r.code, 1);
    const byPath = Object.fromEntries(results(r.stdout).filter((x) => x.path !== undefined).map((x) => [x.path, [x.status, x.error]]));
    assert.deepEqual(byPath, {
      '.': ['done', undefined],
      grown: ['stale', 'source changed since the scan'],
      'now-dir': ['stale', 'source changed since the scan: no longer a regular file'],
      taken: ['stale', 'changed since the scan: something is there now'],
      fine: ['done', undefined],
    });
    assert.equal(fs.readFileSync(path.join(dst, 'taken'), 'utf8'), 'someone put this here');
    assert.deepEqual(fs.readdirSync(dst).sort(), ['fine', 'taken']);
  });
}

test('both ways give the same results stream for the same plan', async () => {
  const outs: Record<string, unknown>[][] = [];
  const { src } = srcDst();
  for (let i = 0; i < 300; i++) fs.writeFileSync(path.join(src, `f${String(i).padStart(3, '0')}`), `${i}`.repeat(i));
  for (const native of ['1', '0']) {
    const { dst } = srcDst();
    const r = await run('cairn-apply', [], { input: plan(src, dst), env: { ...process.env, CAIRN_NATIVE: native } });
    assert.equal(r.code, 0, r.stderr);
    // Each destination root is a new directory, with its own time.
    outs.push(results(r.stdout).map((x) => (x.path === '.' ? { ...x, expect: undefined } : x)));
  }
  assert.deepEqual(outs[0], outs[1]);
});

test('resultLine writes what JSON.stringify of the action with its outcome writes', async () => {
  const { resultLine } = await import('../../lib/apply/run');
  const actions = records(plan(...(() => {
    const { src, dst } = srcDst();
    fs.writeFileSync(path.join(src, 'é "quoted"\n'), 'x');
    fs.mkdirSync(path.join(src, 'dir'));
    fs.writeFileSync(path.join(dst, 'old'), 'y');
    return [src, dst] as [string, string];
  })())).filter((x) => x.op !== undefined);
  const outcomes = [{ status: 'done' as const, bytes: 1 }, { status: 'failed' as const, error: 'EACCES: permission denied "x"\n' }, { status: 'done' as const, kept: '.cairn-versions/old.1' }];
  for (const a of [...actions, { ...actions[0], status: 'edited', error: 'in the plan' }]) {
    for (const r of outcomes) {
      const { bytes: _b, ...rest } = r as { bytes?: number };
      assert.equal(resultLine(a as never, r), JSON.stringify({ ...a, ...rest }));
    }
  }
});

test('with the copy queue, large copies still run four at once at most', async () => {
  const { Applier } = await import('../../lib/apply/applier');
  const { src, dst } = srcDst();
  const actions = Array.from({ length: 5 }, (_, i) => {
    fs.writeFileSync(path.join(src, `big${i}`), Buffer.alloc(8 << 20, i));
    const st = fs.statSync(path.join(src, `big${i}`), { bigint: true });
    const ns = st.mtimeNs;
    const mtime = `${new Date(Number(ns / 1_000_000n)).toISOString().slice(0, 19)}.${String(ns % 1_000_000_000n).padStart(9, '0')}Z`;
    return { op: 'copy', path: `big${i}`, src: { type: 'file', size: 8 << 20, mtime, mode: '0644' } } as never;
  });
  const a = new Applier({ src, dst, versions: null, dryRun: false, verify: false, fsync: false, retry: 0, owners: false, perms: true, dstPerms: true, dstOwners: false, batch: true });
  const running = actions.slice(0, 4).map((x) => a.run(x));
  assert.equal(a.saturated(actions[4]!), true, 'a fifth waits');
  assert.deepEqual((await Promise.all(running)).map((r) => r.status), ['done', 'done', 'done', 'done']);
  assert.equal(a.saturated(actions[4]!), false);
});

test('attributes close a directory when the action before them was on it or inside it (then they may wait for what came before)', async () => {
  const { closes } = await import('../../lib/apply/applier');
  const act = (path: string, path_b64?: string) => ({ op: 'meta', path, ...(path_b64 !== undefined ? { path_b64 } : {}) }) as never;
  assert.equal(closes(act('d/x'), act('d')), true);
  assert.equal(closes(act('d'), act('d')), true);
  assert.equal(closes(act('c/x'), act('.')), true);
  // Before the directory's contents (a mode that lets them be written): not closing.
  assert.equal(closes(act('c'), act('d')), false);
  assert.equal(closes(act('dx/y'), act('d')), false);
  // Raw names compare by their bytes.
  assert.equal(closes(act('\uFFFD/x', Buffer.from([0xff, 0x2f, 0x78]).toString('base64')), act('\uFFFD', Buffer.from([0xfe]).toString('base64'))), false);
});

test('a child of the root is spelt with one slash', async () => {
  const { childOf } = await import('../../lib/tree/local/fs-path');
  assert.equal(childOf('/', 'x'), '/x');
  assert.equal(childOf('/a', 'x'), '/a/x');
  assert.deepEqual(childOf(Buffer.from('/'), 'x'), Buffer.from('/x'));
});
