import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { bisync, summary } from '../helpers/bisync';
import { tempDir } from '../helpers/run';
import { TEMP_PREFIX, actionsOf, bytesOf, pipeline, q, snapshot } from '../helpers/sync';
import { setTime } from '../helpers/tree';

/*
 * The SynchronEX "hopping" case: a USB stick carried between two machines.
 * HOME <-> STICK with the state S1 (kept on the home machine) and
 * WORK <-> STICK with the state S2 (kept at work); the two machines never
 * meet, the stick carries every change. Edits on all three places, a
 * deletion and a new directory that must reach everywhere, a modification
 * that beats a deletion made on the other machine, and a genuine conflict
 * (the same file edited at home and at work between syncs), caught where the
 * two edits meet, kept on both sides, then settled with --prefer so that both
 * versions end up everywhere. At the end all three trees are identical and
 * no sync has anything left to do.
 */

interface Places {
  home: string;
  stick: string;
  work: string;
  s1: string;
  s2: string;
}

function places(): Places {
  const w = tempDir('cairn-hop-');
  const p = { home: path.join(w, 'HOME'), stick: path.join(w, 'STICK'), work: path.join(w, 'WORK'), s1: path.join(w, 'home-machine', 'S1'), s2: path.join(w, 'work-machine', 'S2') };
  for (const d of [p.home, p.stick, p.work, path.dirname(p.s1), path.dirname(p.s2)]) fs.mkdirSync(d);
  return p;
}

function put(root: string, rel: string, content: string | Buffer, mtime?: string): void {
  const abs = path.join(root, rel);
  fs.mkdirSync(path.dirname(abs), { recursive: true });
  fs.writeFileSync(abs, content);
  if (mtime !== undefined) setTime(abs, mtime);
}

function read(root: string, rel: string): string | undefined {
  try {
    return fs.readFileSync(path.join(root, rel), 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * One sync of a pair (A = the machine, B = the stick). Exit 0, or 1 when
 * conflicts are expected; every action done or reported as a conflict;
 * returns the results as `op to path status` lines (see summary()).
 */
function sync(what: string, a: string, b: string, state: string, planFlags: string[] = []): string[] {
  const r = bisync(a, b, state, planFlags);
  const conflicts = r.results.filter((x) => x.op === 'conflict');
  assert.deepEqual(r.codes, [0, 0, conflicts.length > 0 ? 1 : 0], `${what}: exit codes of diff, plan, apply; stderr: ${r.stderr}`);
  for (const x of r.results) assert.ok(x.status === 'done' || (x.op === 'conflict' && x.status === 'conflict'), `${what}: ${JSON.stringify(x)}`);
  for (const line of r.stderr.split('\n').filter((l) => l !== '')) assert.match(line, /^cairn-apply: .*: conflict: /, `${what}: stderr`);
  assert.ok(!fs.existsSync(`${state}.lock`), `${what}: the lock is released`);
  return summary(r.results);
}

/** The changes of a sync, without the records that only bring the state up to date. */
const changes = (lines: string[]) => lines.filter((l) => !l.startsWith('agree '));

/** Objects that differ between two trees, for a readable failure. */
function treeDiff(x: string, y: string): string[] {
  const sx = snapshot(x);
  const sy = snapshot(y);
  const out: string[] = [];
  for (const [k, o] of sx) if (JSON.stringify(sy.get(k)) !== JSON.stringify(o)) out.push(`${k}: ${JSON.stringify(o)} / ${JSON.stringify(sy.get(k) ?? 'missing')}`);
  for (const k of sy.keys()) if (!sx.has(k)) out.push(`${k}: missing / ${JSON.stringify(sy.get(k))}`);
  return out;
}

function assertSame3(p: Places, when: string): void {
  assert.deepEqual(treeDiff(p.home, p.stick), [], `${when}: HOME / STICK`);
  assert.deepEqual(treeDiff(p.work, p.stick), [], `${when}: WORK / STICK`);
}

/** diff | plan of a pair: the plan must hold no action at all. */
function assertNothingPlanned(a: string, b: string, state: string, what: string): void {
  const r = pipeline([`cairn-diff --base ${q(state)} ${q(a)} ${q(b)}`, 'cairn-plan --bisync']);
  assert.deepEqual(r.codes, [0, 0], `${what}: ${r.stderr.join('')}`);
  const actions = actionsOf(r.stdout);
  assert.deepEqual(actions.map((x) => `${x.op} ${x.to ?? ''} ${x.path}`), [], `${what}: a further sync plans nothing`);
}

test('hopping: HOME <-> STICK <-> WORK with a state per machine carries every change, catches the conflict where the edits meet, loses no version', () => {
  const p = places();
  const hs = (what: string, flags: string[] = []) => sync(`${what} (HOME-STICK)`, p.home, p.stick, p.s1, flags);
  const ws = (what: string, flags: string[] = []) => sync(`${what} (WORK-STICK)`, p.work, p.stick, p.s2, flags);

  // 0. The first syncs: HOME's files onto the empty stick, then onto the empty WORK.
  put(p.home, 'docs/letter.txt', 'letter v1\n');
  put(p.home, 'docs/list.md', '- list v1\n');
  put(p.home, 'notes.txt', 'notes v1\n');
  put(p.home, 'photos/2024/p1.jpg', bytesOf(1, 40_000));
  put(p.home, 'photos/2024/p2.jpg', bytesOf(2, 50_000));
  put(p.home, 'music/a.mp3', bytesOf(3, 30_000));
  put(p.home, 'music/b.mp3', bytesOf(4, 30_000));
  put(p.home, 'todo.txt', 'todo v1\n');
  const first = hs('first');
  assert.ok(first.includes('copy b docs/letter.txt done') && first.includes('mkdir b photos/2024 done'), first.join('\n'));
  assert.deepEqual(first.filter((l) => !/^(copy|mkdir|meta) b /.test(l)), [], 'the first sync only creates on the stick');
  const firstWork = ws('first');
  assert.deepEqual(firstWork.filter((l) => !/^(copy|mkdir|meta) a /.test(l)), [], 'the first sync at work only creates on WORK');
  assert.ok(fs.existsSync(p.s1) && fs.existsSync(p.s2), 'each machine has its state');
  assertSame3(p, 'after the first syncs');

  // 1. An edit at home reaches WORK through the stick.
  put(p.home, 'docs/letter.txt', 'letter v2, written at home\n');
  put(p.home, 'docs/from-home.txt', 'new at home\n');
  assert.deepEqual(changes(hs('1')), ['copy b docs/from-home.txt done', 'update b docs/letter.txt done']);
  assert.deepEqual(changes(ws('1')), ['copy a docs/from-home.txt done', 'update a docs/letter.txt done']);
  assertSame3(p, 'after step 1');

  // 2. At work: an edit, a new directory, a deletion; they reach HOME through the stick.
  put(p.work, 'notes.txt', 'notes v2, written at work\n');
  put(p.work, 'projects/alpha/plan.txt', 'alpha plan\n');
  put(p.work, 'projects/alpha/data.bin', bytesOf(5, 20_000));
  fs.rmSync(path.join(p.work, 'photos/2024/p1.jpg'));
  const toStick = changes(ws('2'));
  for (const l of ['update b notes.txt done', 'mkdir b projects done', 'mkdir b projects/alpha done', 'copy b projects/alpha/plan.txt done', 'remove b photos/2024/p1.jpg done']) {
    assert.ok(toStick.includes(l), `step 2, WORK to STICK: ${l}; got\n${toStick.join('\n')}`);
  }
  assert.ok(toStick.every((l) => / b /.test(l)), `step 2: nothing changes on WORK: ${toStick.join('\n')}`);
  const toHome = changes(hs('2'));
  for (const l of ['update a notes.txt done', 'copy a projects/alpha/data.bin done', 'remove a photos/2024/p1.jpg done']) {
    assert.ok(toHome.includes(l), `step 2, STICK to HOME: ${l}; got\n${toHome.join('\n')}`);
  }
  assert.equal(read(p.home, 'projects/alpha/plan.txt'), 'alpha plan\n');
  for (const root of [p.home, p.stick, p.work]) assert.ok(!fs.existsSync(path.join(root, 'photos/2024/p1.jpg')), `step 2: p1.jpg deleted in ${root}`);
  assertSame3(p, 'after step 2');

  // 3. An edit made on the stick itself (a third computer), and a whole directory deleted at home.
  put(p.stick, 'docs/list.md', '- list v2, edited on the stick\n');
  fs.rmSync(path.join(p.home, 'music'), { recursive: true });
  assert.deepEqual(changes(hs('3')), ['remove b music/a.mp3 done', 'remove b music/b.mp3 done', 'rmdir b music done', 'update a docs/list.md done'].sort());
  assert.deepEqual(changes(ws('3')), ['remove a music/a.mp3 done', 'remove a music/b.mp3 done', 'rmdir a music done', 'update a docs/list.md done'].sort());
  for (const root of [p.home, p.stick, p.work]) {
    assert.ok(!fs.existsSync(path.join(root, 'music')), `step 3: music/ deleted in ${root}`);
    assert.equal(read(root, 'docs/list.md'), '- list v2, edited on the stick\n');
  }
  assertSame3(p, 'after step 3');

  // 4. Edits in all three places between syncs, on different files: one round trip carries them all.
  put(p.home, 'docs/home-only.txt', 'home, round 4\n');
  put(p.work, 'projects/alpha/plan.txt', 'alpha plan v2, work\n');
  put(p.stick, 'stick-readme.txt', 'made on the stick\n');
  hs('4');
  ws('4');
  hs('4, back home');
  assertSame3(p, 'after step 4');
  assert.equal(read(p.home, 'projects/alpha/plan.txt'), 'alpha plan v2, work\n');
  assert.equal(read(p.work, 'docs/home-only.txt'), 'home, round 4\n');
  assert.equal(read(p.work, 'stick-readme.txt'), 'made on the stick\n');

  // 5. Deleted at home, modified at work: the deletion travels on the stick, and where it meets the
  //    modification that is a conflict; --prefer keeps the modification, which then comes back home.
  fs.rmSync(path.join(p.home, 'todo.txt'));
  assert.deepEqual(changes(hs('5')), ['remove b todo.txt done']);
  put(p.work, 'todo.txt', 'todo v2, work: still to do\n');
  const met = ws('5');
  assert.deepEqual(changes(met), ['conflict - todo.txt conflict'], 'step 5: the deletion meets the modification');
  assert.equal(read(p.work, 'todo.txt'), 'todo v2, work: still to do\n', 'step 5: the conflict leaves WORK alone');
  assert.equal(read(p.stick, 'todo.txt'), undefined, 'step 5: the conflict leaves the stick alone');
  assert.deepEqual(changes(ws('5, --prefer a', ['--prefer', 'a'])), ['copy b todo.txt done'], 'a modification beats a deletion');
  assert.deepEqual(changes(hs('5, back home')), ['copy a todo.txt done']);
  assertSame3(p, 'after step 5');

  // 6. The genuine conflict: the letter edited at home and at work between syncs. Home syncs first;
  //    the stick carries home's version to WORK, where it meets work's version.
  const now = Date.now();
  const iso = (ms: number) => new Date(ms).toISOString();
  const HOME_V3 = 'letter v3, written at home\n';
  const WORK_V3 = 'letter v3, written at work, a little later\n';
  put(p.home, 'docs/letter.txt', HOME_V3, iso(now - 2 * 3600_000));
  assert.deepEqual(changes(hs('6')), ['update b docs/letter.txt done']);
  put(p.work, 'docs/letter.txt', WORK_V3, iso(now - 3600_000));
  const meet = bisync(p.work, p.stick, p.s2);
  assert.deepEqual(meet.codes, [0, 0, 1], `step 6: a conflict is reported (exit 1): ${meet.stderr}`);
  const conflicts = meet.results.filter((x) => x.op === 'conflict');
  assert.deepEqual(conflicts.map((x) => [x.path, x.why, x.status]), [['docs/letter.txt', 'modified on a, modified on b, different', 'conflict']]);
  assert.deepEqual(changes(summary(meet.results)), ['conflict - docs/letter.txt conflict'], 'step 6: nothing else is done');
  assert.equal(read(p.work, 'docs/letter.txt'), WORK_V3, 'step 6: WORK keeps its version');
  assert.equal(read(p.stick, 'docs/letter.txt'), HOME_V3, 'step 6: the stick keeps home\'s version');
  // Reported again on the next sync, until it is settled; home and the stick agree, nothing to do there.
  assert.deepEqual(changes(ws('6, again')), ['conflict - docs/letter.txt conflict']);
  assert.deepEqual(changes(hs('6, home')), []);
  assert.equal(read(p.home, 'docs/letter.txt'), HOME_V3);

  // Settled at work with --prefer newer: work's version wins, home's is kept as a conflict copy on both sides.
  const settled = changes(ws('6, --prefer newer', ['--prefer', 'newer']));
  const copy = settled.map((l) => /^move b (docs\/letter\.conflict-b-\d{8}-\d{6}\.txt) done$/.exec(l)?.[1]).find((x) => x !== undefined);
  assert.ok(copy !== undefined, `step 6: the loser moves aside on the stick: ${settled.join('\n')}`);
  assert.deepEqual(settled, [`copy a ${copy} done`, 'copy b docs/letter.txt done', `move b ${copy} done`].sort());
  assert.equal(read(p.stick, 'docs/letter.txt'), WORK_V3);
  assert.equal(read(p.stick, copy), HOME_V3);
  assert.equal(read(p.work, copy), HOME_V3);
  // The next sync at home brings both versions home.
  assert.deepEqual(changes(hs('6, home after settling')), [`copy a ${copy} done`, 'update a docs/letter.txt done'].sort());
  for (const root of [p.home, p.stick, p.work]) {
    assert.equal(read(root, 'docs/letter.txt'), WORK_V3, `step 6: work's version in ${root}`);
    assert.equal(read(root, copy), HOME_V3, `step 6: home's version kept in ${root}`);
  }
  assert.deepEqual(changes(ws('6, work again')), []);

  // The end: three identical trees, nothing left to do on either pair, nothing temporary, no lock.
  assertSame3(p, 'at the end');
  assertNothingPlanned(p.home, p.stick, p.s1, 'HOME-STICK');
  assertNothingPlanned(p.work, p.stick, p.s2, 'WORK-STICK');
  for (const root of [p.home, p.stick, p.work, path.dirname(p.s1), path.dirname(p.s2)]) {
    const left = fs.readdirSync(root, { recursive: true }).map(String).filter((r) => path.basename(r).startsWith(TEMP_PREFIX) || r.endsWith('.lock'));
    assert.deepEqual(left, [], `leftovers in ${root}`);
  }
});
