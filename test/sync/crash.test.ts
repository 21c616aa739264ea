import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { BIN, isRoot, tempDir } from '../helpers/run';
import { setTime } from '../helpers/tree';
import {
  TEMP_PREFIX,
  actionsOf,
  assertNoActions,
  badFiles,
  bash,
  bytesOf,
  mirror,
  planMirror,
  prng,
  q,
  rsyncDifferences,
  snapshot,
  tempLeftovers,
  type Obj,
} from '../helpers/sync';

/*
 * kill -9 of the real cairn-apply at random moments. The delays come from a
 * seeded PRNG (CAIRN_CRASH_SEED replays a schedule; where a kill lands in
 * the run still depends on the machine's speed, so the seed and the delay
 * of a failing trial are in the failure message).
 */
const SEED = Number(process.env.CAIRN_CRASH_SEED ?? 20240301);
/** Kills in all: 20, some of them two in a row on the same destination. */
const TRIALS = Number(process.env.CAIRN_CRASH_TRIALS ?? 20);
const DIRS = 5;
const PER_DIR = 200;
const MiB = 1 << 20;
const OLD_TIME = '2020-02-02 02:02:02.5';

const small = (d: number, i: number) => `d${String(d).padStart(2, '0')}/f-${String(i).padStart(4, '0')}.txt`;

/** The source: 1000 small files, four of 3 MiB, links hard and soft, nested dirs, odd modes and owners. */
function buildSource(src: string): void {
  const p = (rel: string) => path.join(src, rel);
  for (let d = 0; d < DIRS; d++) {
    fs.mkdirSync(p(small(d, 0)).replace(/\/[^/]+$/, ''), { recursive: true });
    for (let i = 0; i < PER_DIR; i++) fs.writeFileSync(p(small(d, i)), `source ${d} ${i}\n`.repeat(1 + (i % 7)));
  }
  for (let b = 1; b <= 4; b++) fs.writeFileSync(p(`big${b}.bin`), bytesOf(100 + b, 3 * MiB));
  fs.mkdirSync(p('deep/a/b/c'), { recursive: true });
  fs.writeFileSync(p('deep/a/b/c/leaf.txt'), 'leaf\n');
  fs.writeFileSync(p('deep/a/mid.txt'), 'mid\n');
  fs.mkdirSync(p('links'));
  fs.writeFileSync(p('links/h1'), 'hard linked content\n');
  fs.linkSync(p('links/h1'), p('links/h2'));
  fs.symlinkSync('../d00/f-0001.txt', p('links/sym'));
  fs.mkdirSync(p('shape1'));
  for (let i = 0; i < 3; i++) fs.writeFileSync(p(`shape1/in-${i}`), `in shape1 ${i}\n`);
  fs.writeFileSync(p('shape2'), 'shape2 is a file in the source\n');
  fs.writeFileSync(p('exec.sh'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
  fs.chmodSync(p('exec.sh'), 0o755);
  fs.chmodSync(p('d04'), 0o750);
  if (isRoot) for (let i = 0; i < PER_DIR; i++) fs.chownSync(p(small(1, i)), 1234, 5678);
}

/**
 * The destination as an older mirror left it: some files older versions
 * (updates, 3 MiB ones among them), some missing (copies), extra ones
 * (removes), other modes and owners (meta), objects of another type.
 */
function buildOld(src: string, old: string): void {
  const r = bash(`cp -a ${q(src)} ${q(old)}`);
  assert.equal(r.code, 0, r.stderr);
  const p = (rel: string) => path.join(old, rel);
  for (let d = 3; d < DIRS; d++) fs.rmSync(p(`d0${d}`), { recursive: true });
  fs.rmSync(p('big3.bin'));
  fs.rmSync(p('big4.bin'));
  fs.rmSync(p('deep/a/b'), { recursive: true });
  fs.rmSync(p('links/h1'));
  fs.rmSync(p('links/h2'));
  fs.rmSync(p('links/sym'));
  fs.symlinkSync('elsewhere', p('links/sym'));
  for (let i = 0; i < PER_DIR; i++) {
    fs.writeFileSync(p(small(2, i)), `an older version of d02 file ${i}, longer than the new one\n`.repeat(2 + (i % 3)));
    setTime(p(small(2, i)), OLD_TIME);
  }
  fs.writeFileSync(p('big1.bin'), bytesOf(1, 3 * MiB)); // same size, other content and time
  fs.writeFileSync(p('big2.bin'), bytesOf(2, 2 * MiB));
  setTime(p('big1.bin'), OLD_TIME);
  setTime(p('big2.bin'), OLD_TIME);
  for (let i = 0; i < 20; i++) fs.chmodSync(p(small(0, i)), 0o600);
  if (isRoot) for (let i = 0; i < PER_DIR; i++) fs.chownSync(p(small(1, i)), 0, 0);
  fs.mkdirSync(p('gone/sub'), { recursive: true });
  for (let i = 0; i < 200; i++) fs.writeFileSync(p(`gone/${i % 2 ? 'sub/' : ''}x-${i}`), `to be deleted ${i}\n`);
  fs.writeFileSync(p('extra.txt'), 'not in the source\n');
  fs.rmSync(p('shape1'), { recursive: true });
  fs.writeFileSync(p('shape1'), 'shape1 was a file\n');
  fs.rmSync(p('shape2'));
  fs.mkdirSync(p('shape2'));
  for (let i = 0; i < 3; i++) fs.writeFileSync(p(`shape2/was-${i}`), `in old shape2 ${i}\n`);
  fs.chmodSync(p('exec.sh'), 0o644);
}

/** A fresh destination in the old state (new inodes, so a plan is made for each). */
function reset(old: string, dst: string): void {
  const r = bash(`rm -rf ${q(dst)} && cp -a ${q(old)} ${q(dst)}`);
  assert.equal(r.code, 0, r.stderr);
}

/** Runs cairn-apply on a plan file, killing it with SIGKILL after delayMs (never, when undefined). */
function applyKilledAfter(planFile: string, delayMs: number | undefined): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    // Results to /dev/null: an unread pipe would stall the run and the kills would all land in the stall.
    const child = spawn(path.join(BIN, 'cairn-apply'), [planFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = delayMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), delayMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, stderr, ms: Number(process.hrtime.bigint() - start) / 1e6 });
    });
  });
}

/** How far a destination got: objects already as in the source, and objects still to do. */
function progress(dst: Map<string, Obj>, want: Map<string, Obj>): { done: number; todo: number } {
  let done = 0;
  let todo = 0;
  const same = (a: Obj | undefined, b: Obj) => a !== undefined && a.type === b.type && a.hash === b.hash && a.target === b.target;
  for (const [rel, w] of want) (same(dst.get(rel), w) ? done++ : todo++);
  for (const rel of dst.keys()) if (!want.has(rel)) todo++;
  return { done, todo };
}

test(`kill -9 of cairn-apply at ${TRIALS} random moments: no partial file under a final name, and the next run converges`, async (t) => {
  t.diagnostic(`seed ${SEED} (CAIRN_CRASH_SEED=${SEED} replays the kill schedule)`);
  const rand = prng(SEED);
  const work = tempDir('cairn-crash-');
  const src = path.join(work, 'src');
  const old = path.join(work, 'old');
  const dst = path.join(work, 'dst');
  const planFile = path.join(work, 'plan.ndjson');
  buildSource(src);
  buildOld(src, old);
  const want = snapshot(src);
  const was = snapshot(old);
  // The source does not change: it is scanned once for the plans that are killed (they are only the setup).
  const srcScan = path.join(work, 'src.entries');
  const scanned = bash(`cairn-scan ${q(src)} > ${q(srcScan)}`);
  assert.equal(scanned.code, 0, scanned.stderr);

  // Runs left alone, timed to aim the kills: one with nothing to do (start-up and reading the
  // plan), two with everything. The plan does every kind of action.
  const idlePlan = path.join(work, 'idle.ndjson');
  fs.writeFileSync(idlePlan, planMirror(src, src));
  const idle = await applyKilledAfter(idlePlan, undefined);
  assert.deepEqual([idle.code, idle.stderr], [0, ''], 'apply of an empty plan');
  let fullMs = Infinity;
  let fullActions = 0;
  for (let i = 0; i < 2; i++) {
    reset(old, dst);
    const plan = planMirror(srcScan, dst);
    fs.writeFileSync(planFile, plan);
    const ops = new Map<string, number>();
    for (const a of actionsOf(plan)) ops.set(a.op as string, (ops.get(a.op as string) ?? 0) + 1);
    for (const op of ['mkdir', 'copy', 'update', 'symlink', 'meta', 'remove', 'rmdir']) assert.ok((ops.get(op) ?? 0) > 0, `the plan has no ${op}: ${JSON.stringify([...ops])}`);
    fullActions = actionsOf(plan).length;
    const full = await applyKilledAfter(planFile, undefined);
    assert.deepEqual([full.code, full.signal, full.stderr], [0, null, ''], 'an uninterrupted apply');
    assert.equal(rsyncDifferences(src, dst), '', 'an uninterrupted apply makes an exact mirror');
    fullMs = Math.min(fullMs, full.ms);
    if (i === 0) t.diagnostic(`plan: ${JSON.stringify(Object.fromEntries(ops))}`);
  }
  t.diagnostic(`apply takes ${idle.ms.toFixed(0)} ms with nothing to do, ${fullMs.toFixed(0)} ms with everything`);

  let midRun = 0;
  let withTemp = 0;
  let kills = 0;
  const spent: Record<string, number> = {};
  let clock = Date.now();
  const lap = (what: string) => {
    const now = Date.now();
    spent[what] = (spent[what] ?? 0) + now - clock;
    clock = now;
  };
  // On a loaded machine the timing drifts and kills land before or after the work: more rounds
  // (up to three times as many kills) until half of TRIALS have landed mid-run.
  const more = (): boolean => kills < TRIALS || (midRun < TRIALS / 2 && kills < 3 * TRIALS);
  for (let round = 1; more(); round++) {
    lap('other');
    reset(old, dst);
    let temps: string[] = [];
    // Two kills on each destination: the second hits the run that cleans up after the first.
    for (let k = 0; k < 2 && more(); k++) {
      const plan = planMirror(srcScan, dst);
      fs.writeFileSync(planFile, plan);
      const actions = actionsOf(plan);
      // Aimed at a moment while actions are being done, in proportion to what is left to do.
      const delay = Math.round(idle.ms + rand() * (fullMs - idle.ms) * Math.min(1, actions.length / fullActions));
      kills++;
      const tag = `kill ${kills}${k > 0 ? ' (the second on this destination)' : ''}: seed ${SEED}, after ${delay} ms, ${actions.length} actions`;
      // Leftovers of the killed run are removed by the next plan, and nothing else is done to a temporary name.
      const atTemp = actions.filter((a) => path.basename(a.path as string).startsWith(TEMP_PREFIX));
      for (const a of atTemp) assert.equal(a.op, 'remove', `${tag}: ${JSON.stringify(a)}`);
      assert.deepEqual(atTemp.map((a) => a.path).sort(), temps.sort(), `${tag}: the plan removes exactly the leftovers`);
      lap('plan');
      const killed = await applyKilledAfter(planFile, delay);
      lap('killed apply');
      if (killed.signal !== 'SIGKILL') assert.deepEqual([killed.code, killed.stderr], [0, ''], `${tag}: finished before the kill`);
      const after = snapshot(dst);
      assert.deepEqual(badFiles(after, want, was), [], `${tag}: objects under final names that are neither the source's nor the old destination's`);
      temps = [...after.keys()].filter((r) => path.basename(r).startsWith(TEMP_PREFIX));
      for (const r of temps) assert.match(path.basename(r), /^\.cairn-tmp\.\d+\.\d+$/, `${tag}: leftover name`);
      const { done, todo } = progress(after, want);
      if (killed.signal === 'SIGKILL' && done > 0 && todo > 0) midRun++;
      if (temps.length > 0) withTemp++;
      lap('check');
    }

    // The next run cleans up and converges.
    const tag = `after kill ${kills} (seed ${SEED})`;
    mirror(src, dst);
    lap('rerun');
    assert.equal(rsyncDifferences(src, dst), '', `${tag}: rsync -aniH --delete --checksum after the rerun`);
    assert.deepEqual(tempLeftovers(dst), [], `${tag}: temporary files after the rerun`);
    lap('check');
    assertNoActions(planMirror(src, dst), `${tag}: a further diff|plan`);
    lap('plan');
  }
  t.diagnostic(`time spent (ms): ${JSON.stringify(spent)}`);
  t.diagnostic(`${midRun} of ${kills} kills landed mid-run; ${withTemp} left a ${TEMP_PREFIX}* file`);
  // Otherwise the test proved nothing: the tree is too small for this machine, or too big.
  assert.ok(midRun >= TRIALS / 2, `only ${midRun} of ${kills} kills landed while apply was working`);
});
