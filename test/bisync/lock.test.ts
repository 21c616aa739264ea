import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers/run';
import { bisync, newPair, summary } from '../helpers/bisync';

function pair(): { a: string; b: string; state: string } {
  const p = newPair('cairn-bisync-lock-');
  fs.writeFileSync(path.join(p.a, 'f.txt'), 'one\n');
  return p;
}

test('a live lock stops cairn-diff --base and cairn-apply --state; nothing is done', async () => {
  const { a, b, state } = pair();
  assert.deepEqual(bisync(a, b, state).codes, [0, 0, 0]);
  const before = fs.readFileSync(state);
  fs.writeFileSync(path.join(a, 'g.txt'), 'two\n');
  const holder = spawn('sleep', ['30']);
  try {
    fs.writeFileSync(`${state}.lock`, `${holder.pid}\n`);
    const r = bisync(a, b, state);
    assert.equal(r.codes[0], 2, r.stderr);
    assert.match(r.stderr, new RegExp(`^cairn-diff: ${state.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.lock: locked by process ${holder.pid}: another run on this pair is under way`, 'm'));
    assert.equal(fs.existsSync(path.join(b, 'g.txt')), false);
    assert.deepEqual(fs.readFileSync(state), before, 'the state is untouched');
    assert.equal(fs.readFileSync(`${state}.lock`, 'utf8'), `${holder.pid}\n`, 'the lock is not ours to remove');
  } finally {
    holder.kill('SIGKILL');
  }
});

test('a lock whose process is gone (a run killed) is taken over with a warning, and released', async () => {
  const { a, b, state } = pair();
  assert.deepEqual(bisync(a, b, state).codes, [0, 0, 0]);
  fs.writeFileSync(path.join(a, 'g.txt'), 'two\n');
  const gone = spawn('true');
  await new Promise((r) => gone.on('exit', r));
  fs.writeFileSync(`${state}.lock`, `${gone.pid}\n`);
  const r = bisync(a, b, state);
  assert.deepEqual(r.codes, [0, 0, 0], r.stderr);
  assert.match(r.stderr, new RegExp(`cairn-apply: .*\\.lock: stale lock of process ${gone.pid}, which is gone: taken over`));
  assert.deepEqual(summary(r.results), ['copy b g.txt done']);
  assert.equal(fs.existsSync(`${state}.lock`), false, 'released at the end');
});

test('two sides that overlap (one inside the other, or the same tree) are refused before anything is planned', () => {
  const dir = tempDir('cairn-bisync-overlap-');
  const a = path.join(dir, 'a');
  fs.mkdirSync(path.join(a, 'inner'), { recursive: true });
  fs.writeFileSync(path.join(a, 'f.txt'), 'f\n');
  const state = path.join(dir, 'state.ndjson');
  for (const [x, y, why] of [
    [a, path.join(a, 'inner'), 'one side lies inside the other: a two-way sync needs two separate trees'],
    [path.join(a, 'inner'), a, 'one side lies inside the other: a two-way sync needs two separate trees'],
    [a, a, 'both sides are the same tree'],
  ] as const) {
    const r = bisync(x, y, state);
    assert.equal(r.codes[0], 2);
    assert.match(r.stderr, new RegExp(`^cairn-diff: ${x} ${y}: ${why}$`, 'm'));
    assert.deepEqual(r.results, []);
    assert.equal(fs.existsSync(state), false);
  }
});
