import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { records, tempDir } from '../helpers/run';
import { setTime } from '../helpers/tree';
import { actionsOf, bytesOf, withFat, pipeline, planMirror, q, snapshot, type Obj } from '../helpers/sync';

/* A FAT stick as the destination of a mirror: it keeps 2 s times, no modes, no owners. */

/** Files and directories with times FAT cannot keep exactly: odd seconds, fractions of a second. */
const TREE: Array<[string, string | Buffer | null, string]> = [
  ['docs', null, '2022-02-02 02:02:03.5'],
  ['docs/readme.txt', 'read me\n', '2021-01-01 00:00:01.000000001'],
  ['docs/run.sh', '#!/bin/sh\necho run\n', '2023-07-15 23:59:59.999999999'],
  ['docs/notes', null, '2020-06-30 12:34:57.25'],
  ['docs/notes/monday.txt', 'monday\n', '2024-03-01 10:11:13.7'],
  ['docs/notes/empty.txt', '', '2024-03-01 10:11:15.123456789'],
  ['photos', null, '2019-12-31 23:59:59.5'],
  ['photos/2024', null, '2024-02-29 08:00:01.999'],
  ['photos/2024/march', null, '2024-03-31 17:45:33.333333333'],
  ['photos/2024/march/a.jpg', bytesOf(1, 150 * 1024), '2024-03-01 10:11:13.7'],
  ['photos/2024/march/b.jpg', bytesOf(2, 70 * 1024 + 3), '2024-03-02 09:09:09.090909090'],
  ['photos/2024/c.jpg', bytesOf(3, 4097), '2024-01-01 00:00:00.5'],
  ['top.txt', 'at the top\n', '2018-05-05 05:05:05.555'],
];

function buildSource(): string {
  const src = tempDir('cairn-fat-src-');
  for (const [rel, content] of TREE) {
    const p = path.join(src, rel);
    if (content === null) fs.mkdirSync(p);
    else fs.writeFileSync(p, content);
  }
  fs.chmodSync(path.join(src, 'docs/run.sh'), 0o755);
  fs.chmodSync(path.join(src, 'docs/notes/monday.txt'), 0o600);
  // Children first: writing into a directory moves its time.
  for (const [rel, , time] of [...TREE].reverse()) setTime(path.join(src, rel), time);
  return src;
}

/** diff|plan|apply onto the stick: every stage quiet and successful, every action done. */
function mirrorOnto(src: string, dst: string): void {
  const r = pipeline([`cairn-diff ${q(src)} ${q(dst)}`, 'cairn-plan --mirror --max-delete=off', 'cairn-apply']);
  assert.deepEqual({ codes: r.codes, stderr: r.stderr }, { codes: [0, 0, 0], stderr: ['', '', ''] }, 'diff|plan|apply onto FAT');
  const results = records(r.stdout);
  assert.deepEqual(results.at(-1), { cairn: 'end' });
  for (const a of results.slice(1, -1)) assert.equal(a.status, 'done', JSON.stringify(a));
}

/**
 * A finished mirror, every way it is checked, all problems together (one
 * can hide another): file times within a FAT step, the next plan empty,
 * `cairn-diff --check` content, then the same names and bytes. FAT is
 * looked at (stat) before it is read.
 */
function assertMirrored(src: string, dst: string): void {
  const problems: string[] = [];
  const files = [...snapshot(src)].filter(([, o]) => o.type === 'file').map(([rel]) => rel);
  for (const rel of files) {
    const s = fs.statSync(path.join(src, rel), { bigint: true }).mtimeNs;
    let d: bigint;
    try {
      d = fs.statSync(path.join(dst, rel), { bigint: true }).mtimeNs;
    } catch (err) {
      problems.push(`${rel}: ${(err as Error).message}`);
      continue;
    }
    // At most one FAT step (2 s) before the source's time, never after.
    if (!(d <= s && s - d < 2_000_000_000n)) problems.push(`${rel}: mtime ${new Date(Number(d / 1_000_000n)).toISOString()} on FAT, ${new Date(Number(s / 1_000_000n)).toISOString()} in the source`);
  }
  const plan = actionsOf(planMirror(src, dst));
  if (plan.length > 0) problems.push(`the next plan is not empty: ${plan.length} actions: ${plan.slice(0, 4).map((a) => JSON.stringify(a)).join(' ')}`);
  const check = pipeline([`cairn-diff --check ${q(src)} ${q(dst)}`]);
  if (check.codes[0] !== 0 || check.stdout !== '' || check.stderr[0] !== '') {
    problems.push(`cairn-diff --check SRC DST: exit ${check.codes[0]}, stdout ${JSON.stringify(check.stdout.slice(0, 400))}, stderr ${JSON.stringify(check.stderr[0])}`);
  }
  const byPath = (m: Map<string, Obj>) => [...m].sort(([a], [b]) => (a < b ? -1 : 1));
  try {
    assert.deepEqual(byPath(snapshot(dst)), byPath(snapshot(src)));
  } catch (err) {
    problems.push(`names, types or bytes differ: ${(err as Error).message}`);
  }
  assert.deepEqual(problems, [], 'the mirror on FAT');
}

test('mirror onto FAT: whole files, times within a FAT step, the second run plans nothing, --check exits 0', (t) =>
  withFat(t, (dir) => {
    const src = buildSource();
    mirrorOnto(src, dir);
    assertMirrored(src, dir);
  }));

test('mirror onto FAT after changes in the source: updates, deletions, new files; then nothing to do', (t) =>
  withFat(t, (dir) => {
    const src = buildSource();
    mirrorOnto(src, dir);
    // Same size, new content, a later time, an odd second again.
    fs.writeFileSync(path.join(src, 'photos/2024/c.jpg'), bytesOf(30, 4097));
    setTime(path.join(src, 'photos/2024/c.jpg'), '2024-01-05 00:00:01.5');
    fs.writeFileSync(path.join(src, 'top.txt'), 'at the top, and longer now\n');
    setTime(path.join(src, 'top.txt'), '2025-05-05 05:05:07.777');
    fs.rmSync(path.join(src, 'docs/notes'), { recursive: true });
    fs.rmSync(path.join(src, 'photos/2024/march/b.jpg'));
    fs.mkdirSync(path.join(src, 'new'));
    fs.writeFileSync(path.join(src, 'new/n.txt'), 'new\n');
    setTime(path.join(src, 'new/n.txt'), '2025-01-01 00:00:03.3');
    mirrorOnto(src, dir);
    assertMirrored(src, dir);
  }));
