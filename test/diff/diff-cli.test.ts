import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { records, run, sh } from '../helpers/run';
import { q, srcDst } from '../helpers/sync';
import { setTime } from '../helpers/tree';

function put(root: string, rel: string, content: string, time?: string): void {
  fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  fs.writeFileSync(path.join(root, rel), content);
  if (time) setTime(path.join(root, rel), time);
}

async function diff(args: string[]): Promise<{ code: number | null; changes: Record<string, unknown>[]; stderr: string; stdout: string }> {
  const r = await run('cairn-diff', args);
  return { code: r.code, changes: r.code === 0 && !args.includes('--check') ? records(r.stdout).slice(1, -1) : [], stderr: r.stderr, stdout: r.stdout };
}

test('records: a-only, b-only, differ with the attributes that differ, in canonical order; the end record counts', async () => {
  const { src, dst } = srcDst();
  put(src, 'a.txt', 'same', '2024-01-01 00:00:00');
  put(dst, 'a.txt', 'same', '2024-01-01 00:00:00');
  put(src, 'a/new', 'n');
  put(dst, 'a/old', 'o');
  put(src, 'size', 'longer', '2024-01-01 00:00:00');
  put(dst, 'size', 'short', '2024-01-01 00:00:00');
  put(src, 'mode', 'm', '2024-01-01 00:00:00');
  put(dst, 'mode', 'm', '2024-01-01 00:00:00');
  fs.chmodSync(path.join(src, 'mode'), 0o600);
  fs.symlinkSync('x', path.join(src, 'kind'));
  put(dst, 'kind', 'file');
  setTime(path.join(src, 'a'), '2024-01-01 00:00:00');
  setTime(path.join(dst, 'a'), '2024-01-01 00:00:00');
  const r = await run('cairn-diff', [src, dst]);
  assert.equal(r.code, 0, r.stderr);
  const all = records(r.stdout);
  assert.equal(all[0]!.cairn, 'changes');
  assert.equal((all[0]!.a as { root: string }).root, src);
  assert.deepEqual(all.at(-1), { cairn: 'end', counts: { a: 6, b: 6, differences: 5 } });
  assert.deepEqual(
    all.slice(1, -1).map((c) => [c.path, c.change, c.attrs]),
    [
      ['a', 'same', undefined],
      ['a/new', 'a-only', undefined],
      ['a/old', 'b-only', undefined],
      ['kind', 'differ', ['type']],
      ['mode', 'differ', ['mode']],
      ['size', 'differ', ['size']],
    ],
    'the unchanged directory a comes as same before its differences; a.txt is not written',
  );
});

test('--check prints one line per difference and exits 1; 0 when equal', async () => {
  const { src, dst } = srcDst();
  put(src, 'f', 'x', '2024-01-01 00:00:00');
  put(dst, 'f', 'x', '2024-01-01 00:00:00');
  let r = await run('cairn-diff', ['--check', src, dst]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  put(src, 'new\nline', 'n');
  put(dst, 'f', 'y', '2024-01-01 00:00:05');
  r = await run('cairn-diff', ['--check', src, dst]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, 'differ\tmtime\tf\na-only\t-\tnew\\nline\n');
});

test('a FAT side compares mtimes at 2 s; --modify-window and --ignore-hour-shift widen it', async () => {
  const { src, dst } = srcDst();
  put(src, 'f', 'x', '2024-01-01 00:00:01.5');
  put(dst, 'f', 'x', '2024-01-01 00:00:00');
  put(src, 'dst', 'y', '2024-01-01 01:00:00.3');
  put(dst, 'dst', 'y', '2024-01-01 00:00:00');
  let d = await diff(['--caps-b', 'mtime_precision_ns=2s', src, dst]);
  assert.deepEqual(d.changes.map((c) => [c.path, c.attrs]), [['dst', ['mtime']]]);
  d = await diff(['--caps-b', 'mtime_precision_ns=2s', '--ignore-hour-shift', src, dst]);
  assert.deepEqual(d.changes, []);
  d = await diff([src, dst]);
  assert.equal(d.code, 0, d.stderr);
  assert.deepEqual(d.changes.map((c) => [c.path, c.attrs]), [['dst', ['mtime']], ['f', ['mtime']]]);
  d = await diff(['--modify-window', '2', src, dst]);
  assert.deepEqual(d.changes.map((c) => c.path), ['dst']);
  d = await diff(['--size-only', src, dst]);
  assert.deepEqual(d.changes, []);
  d = await diff(['--ignore', 'mtime', src, dst]);
  assert.deepEqual(d.changes, []);
});

test('--checksum hashes only equal-size files whose mtimes differ, and decides by content', async () => {
  const { base, src, dst } = srcDst();
  put(src, 'touched', 'same bytes', '2024-01-01 00:00:00');
  put(dst, 'touched', 'same bytes', '2023-01-01 00:00:00');
  put(src, 'edited', 'new bytes!', '2024-01-01 00:00:00');
  put(dst, 'edited', 'old bytes!', '2023-01-01 00:00:00');
  put(src, 'untouched', 'u', '2024-01-01 00:00:00');
  put(dst, 'untouched', 'u', '2024-01-01 00:00:00');
  const A = path.join(base, 'a.ndjson');
  const B = path.join(base, 'b.ndjson');
  assert.equal(sh(`cairn-scan ${q(src)} > ${q(A)} && cairn-scan ${q(dst)} > ${q(B)}`).code, 0);
  // Were `untouched` read, its absence would show as an error.
  fs.rmSync(path.join(src, 'untouched'));
  fs.rmSync(path.join(dst, 'untouched'));
  const d = await diff(['--checksum', A, B]);
  assert.equal(d.code, 0, d.stderr);
  assert.deepEqual(d.changes.map((c) => [c.path, c.attrs]), [['edited', ['mtime', 'hash']], ['touched', ['mtime']]]);
  const touched = d.changes[1]! as { a: { hash: string }; b: { hash: string } };
  assert.match(touched.a.hash, /^sha256:[0-9a-f]{64}$/);
  assert.equal(touched.a.hash, touched.b.hash);
  // The plan sets the time of `touched` and copies only `edited`.
  const plan = sh(`cairn-diff --checksum ${q(A)} ${q(B)} | cairn-plan --copy`);
  assert.deepEqual(records(plan.stdout).filter((x) => x.op && x.path !== '.').map((x) => [x.op, x.path]), [['update', 'edited'], ['meta', 'touched']]);
});

test('hard links: a path linked differently on the two sides differs in link', async () => {
  const { src, dst } = srcDst();
  put(src, 'a', 'x', '2024-01-01 00:00:00');
  fs.linkSync(path.join(src, 'a'), path.join(src, 'b'));
  put(dst, 'a', 'x', '2024-01-01 00:00:00');
  put(dst, 'b', 'x', '2024-01-01 00:00:00');
  const d = await diff(['--ignore', 'mode,owner', src, dst]);
  assert.deepEqual(d.changes.map((c) => [c.path, c.attrs, (c.a as { link?: string }).link]), [['b', ['link'], 'a']]);
});

test('bad input: one line naming file, line and field, exit 2, nothing on stdout', async () => {
  const { base, src } = srcDst();
  const bad = path.join(base, 'bad.ndjson');
  fs.writeFileSync(bad, '{"cairn":"entries","version":1,"root":"/x"}\n{"path":"b","type":"file","size":1,"mtime":"2024-01-01T00:00:00.000000000Z"}\n{"path":"a","type":"file","size":1,"mtime":"2024-01-01T00:00:00.000000000Z"}\n{"cairn":"end"}\n');
  let r = await run('cairn-diff', [bad, src]);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, `cairn-diff: ${bad}:3: path: out of canonical order (after "b")\n`);
  r = await run('cairn-diff', ['-', '-']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'cairn-diff: -: only one side can read stdin\n');
  r = await run('cairn-diff', [src]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'cairn-diff: needs two sides, A and B (see --help)\n');
  r = await run('cairn-diff', ['--checksum=some', src, src]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'cairn-diff: --checksum=some: the only value is all (bare --checksum hashes only where mtimes differ)\n');
});

test('a scanned side gets the filters of a stream side: excluded files are not extras', async () => {
  const { base, src, dst } = srcDst();
  put(src, 'keep', 'k', '2024-01-01 00:00:00');
  put(dst, 'keep', 'k', '2024-01-01 00:00:00');
  put(dst, 'cache.tmp', 'c');
  const A = path.join(base, 'a.ndjson');
  assert.equal(sh(`cairn-scan --exclude '*.tmp' ${q(src)} > ${q(A)}`).code, 0);
  const d = await diff([A, dst]);
  assert.deepEqual(d.changes, []);
});

test('cairn-diff | head exits quietly', () => {
  const { src, dst } = srcDst();
  for (let i = 0; i < 3000; i++) put(src, `f${i}`, 'x');
  const r = sh(`set -o pipefail; cairn-diff ${q(src)} ${q(dst)} | head -1 > /dev/null`);
  assert.equal(r.code, 0);
  assert.equal(r.stderr, '');
});

test('--checksum=all hashes equal-size pairs even when their times agree', async () => {
  const { src, dst } = srcDst();
  put(src, 'f', 'new!', '2024-01-01 00:00:00');
  put(dst, 'f', 'old!', '2024-01-01 00:00:00');
  assert.deepEqual((await diff(['--checksum', src, dst])).changes, [], 'bare --checksum trusts equal size and time');
  const d = await diff(['--checksum=all', src, dst]);
  assert.deepEqual(d.changes.map((c) => [c.path, c.attrs]), [['f', ['hash']]]);
});
