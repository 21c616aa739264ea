import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { records, tempDir } from '../helpers/run';
import { bisync, summary } from '../helpers/bisync';
import { bash, q } from '../helpers/sync';

/* What a run cannot see or finish: unscanned directories, unreadable content, a closed output pipe. */

function pair(): { dir: string; a: string; b: string; state: string } {
  const dir = tempDir('cairn-bisync-unknown-');
  const a = path.join(dir, 'a');
  const b = path.join(dir, 'b');
  fs.mkdirSync(path.join(a, 'mnt'), { recursive: true });
  fs.writeFileSync(path.join(a, 'mnt/x.txt'), 'x\n');
  fs.writeFileSync(path.join(a, 'f.txt'), 'same size 1\n');
  fs.mkdirSync(b);
  return { dir, a, b, state: path.join(dir, 'state.ndjson') };
}

/** Side b as an edited entries stream: `edit` changes the records (not the header or end). */
function streamOf(root: string, file: string, edit: (recs: Record<string, unknown>[]) => Record<string, unknown>[]): void {
  const lines = records(bash(`cairn-scan ${q(root)}`).stdout);
  const [head, ...rest] = lines;
  const end = rest.pop();
  fs.writeFileSync(file, [head, ...edit(rest), end].map((o) => JSON.stringify(o)).join('\n') + '\n');
}

test('a directory left unscanned on one side (a mount point under -x) keeps its contents on the other', () => {
  const { dir, a, b, state } = pair();
  assert.deepEqual(bisync(a, b, state).codes, [0, 0, 0]);
  const bs = path.join(dir, 'b.ndjson');
  streamOf(b, bs, (recs) => recs.filter((r) => r.path !== 'mnt/x.txt').map((r) => (r.path === 'mnt' ? { ...r, unscanned: 'a mount point (--one-file-system)' } : r)));
  const r = bash(`cairn-diff --base ${q(state)} ${q(a)} ${q(bs)} | cairn-plan --bisync --stats | cairn-apply --state ${q(state)}`);
  assert.equal(r.code, 0, r.stderr);
  const done = records(r.stdout).filter((x) => typeof x.op === 'string');
  assert.deepEqual(done, [], 'nothing is removed from side a');
  assert.match(r.stderr, /left alone: \d+ objects (unreadable or unscanned on one side|inside a directory in conflict)/);
  assert.equal(fs.readFileSync(path.join(a, 'mnt/x.txt'), 'utf8'), 'x\n');
  assert.equal(fs.readFileSync(path.join(b, 'mnt/x.txt'), 'utf8'), 'x\n');
});

test('both sides changed a file to the same size and one cannot be read: a conflict, never an overwrite', () => {
  const { dir, a, b, state } = pair();
  assert.deepEqual(bisync(a, b, state).codes, [0, 0, 0]);
  fs.writeFileSync(path.join(a, 'f.txt'), 'same size A\n');
  fs.writeFileSync(path.join(b, 'f.txt'), 'same size B\n');
  fs.utimesSync(path.join(b, 'f.txt'), new Date('2030-01-01'), new Date('2030-01-01'));
  // Side b's f.txt as scanned, then gone from where the diff would read it.
  const bs = path.join(dir, 'b.ndjson');
  streamOf(b, bs, (recs) => recs);
  fs.renameSync(path.join(b, 'f.txt'), path.join(dir, 'aside'));
  const r = bash(`cairn-diff --base ${q(state)} ${q(a)} ${q(bs)} | cairn-plan --bisync | cairn-apply --state ${q(state)}`);
  const done = records(r.stdout).filter((x) => typeof x.op === 'string');
  assert.deepEqual(done.map((x) => `${x.op} ${x.path} ${x.status}`), ['conflict f.txt conflict']);
  assert.equal(done[0]!.why, 'changed on both sides, and the content of one could not be read to compare');
  assert.equal(fs.readFileSync(path.join(a, 'f.txt'), 'utf8'), 'same size A\n');
});

test('cairn-apply --state | head: the state records what was done, and the lock is let go', () => {
  const { a, b, state } = pair();
  for (let i = 0; i < 300; i++) fs.writeFileSync(path.join(a, `n${String(i).padStart(3, '0')}.txt`), `${i}\n`);
  const r = bash(`cairn-diff --base ${q(state)} ${q(a)} ${q(b)} | cairn-plan --bisync | cairn-apply --state ${q(state)} | head -c 1 >/dev/null; echo "\${PIPESTATUS[2]}"`);
  assert.equal(r.stdout.trim(), '0', `exits quietly: ${r.stderr}`);
  assert.equal(r.stderr, '');
  assert.equal(fs.existsSync(`${state}.lock`), false, 'the lock is released');
  // Whatever reached side b is in the state; the next run finishes the rest and then has nothing to do.
  const inState = new Set(records(fs.readFileSync(state, 'utf8')).map((e) => e.path));
  for (const name of fs.readdirSync(b)) assert.ok(inState.has(name), `${name} is on side b but not in the state`);
  const next = bisync(a, b, state);
  assert.deepEqual(next.codes, [0, 0, 0], next.stderr);
  assert.ok(summary(next.results).every((l) => l.startsWith('copy b ') || l.startsWith('mkdir b ') || l.startsWith('meta b ') || l.startsWith('agree ')), summary(next.results).join('\n'));
  assert.deepEqual(summary(bisync(a, b, state).results), []);
});

test('--checkpoint: a run killed half-way has written a state of what it had done by then', async () => {
  const { dir, a, b, state } = pair();
  for (let i = 0; i < 3000; i++) fs.writeFileSync(path.join(a, `n${String(i).padStart(4, '0')}.txt`), `${i}\n`);
  const plan = path.join(dir, 'plan.ndjson');
  assert.equal(bash(`cairn-diff --base ${q(state)} ${q(a)} ${q(b)} | cairn-plan --bisync > ${q(plan)}`).code, 0);
  const results = path.join(dir, 'results.ndjson');
  const { spawn } = await import('node:child_process');
  const out = fs.openSync(results, 'w');
  const apply = spawn(path.join(__dirname, '../../../bin/cairn-apply'), ['--state', state, '--checkpoint', '0s', plan], { stdio: ['ignore', out, 'ignore'] });
  const lines = () => fs.readFileSync(results, 'utf8').split('\n').length;
  for (let i = 0; i < 600 && lines() < 1500 && apply.exitCode === null; i++) await new Promise((r) => setTimeout(r, 10));
  apply.kill('SIGKILL');
  await new Promise((r) => apply.on('exit', r));
  fs.closeSync(out);
  assert.ok(fs.existsSync(state), 'a checkpoint wrote the state before the kill (a first run has none until then)');
  const inState = records(fs.readFileSync(state, 'utf8')).filter((e) => typeof e.path === 'string' && e.type === 'file');
  assert.ok(inState.length > 0 && inState.length < 3000, `${inState.length} files in the state`);
  // The state records only what is really there.
  for (const e of inState) assert.equal(fs.readFileSync(path.join(b, e.path as string), 'utf8'), fs.readFileSync(path.join(a, e.path as string), 'utf8'));
});
