import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Planner, type PlannerOptions } from '../../lib/plan/planner';
import type { Action, Change, CompareSettings, EntryBody } from '../../lib/records/types';

const settings: CompareSettings = {
  mtime_window_ns: 1000,
  perms: true,
  owners: false,
  symlinks: true,
  hardlinks: true,
  ignore_hour_shift: false,
  size_only: false,
  checksum: 'off',
  ignore: [],
};

const T1 = '2024-01-01T00:00:00.000000000Z';
const T2 = '2024-06-01T00:00:00.000000000Z';
const dir = (mtime = T1): EntryBody => ({ type: 'dir', mtime, mode: '0755', uid: 0, gid: 0 });
const file = (size = 1, mtime = T1): EntryBody => ({ type: 'file', size, mtime, mode: '0644', uid: 0, gid: 0 });

function plan(changes: Change[], o: Partial<PlannerOptions> = {}): string[] {
  const out: Action[] = [];
  const p = new Planner({ mode: 'mirror', settings, lazyMkdir: false, versions: null, force: false, symlinks: true, ...o }, (a) => out.push(a));
  for (const c of changes) p.feed(c);
  p.finish();
  return out.map((a) => `${a.op} ${a.path}`);
}

test('a directory replaced by a file: its contents go, then the directory, then the file comes', () => {
  assert.deepEqual(
    plan([
      { path: 'd', change: 'differ', attrs: ['type'], a: file(), b: dir() },
      { path: 'd/x', change: 'b-only', b: file() },
      { path: 'd/y', change: 'b-only', b: dir() },
      { path: 'd/y/z', change: 'b-only', b: file() },
      { path: 'e', change: 'a-only', a: file() },
    ]),
    ['remove d/x', 'remove d/y/z', 'rmdir d/y', 'rmdir d', 'copy d', 'copy e'],
  );
});

test('a file replaced by a directory: the file goes, the directory comes, its contents, then its attributes', () => {
  assert.deepEqual(
    plan([
      { path: 'd', change: 'differ', attrs: ['type'], a: dir(), b: file() },
      { path: 'd/x', change: 'a-only', a: file() },
    ]),
    ['remove d', 'mkdir d', 'copy d/x', 'meta d'],
  );
});

test('an unchanged directory gets its time back only when its contents changed', () => {
  assert.deepEqual(
    plan([
      { path: 'same', change: 'same', a: dir(), b: dir() },
      { path: 'same/new', change: 'a-only', a: file() },
      { path: 'quiet', change: 'same', a: dir(), b: dir() },
    ]),
    ['copy same/new', 'meta same'],
  );
});

test('--lazy-mkdir: nested new directories are made outermost first, only when a file goes in', () => {
  assert.deepEqual(
    plan(
      [
        { path: 'a', change: 'a-only', a: dir() },
        { path: 'a/b', change: 'a-only', a: dir() },
        { path: 'a/b/f', change: 'a-only', a: file() },
        { path: 'empty', change: 'a-only', a: dir() },
        { path: 'empty/sub', change: 'a-only', a: dir() },
      ],
      { lazyMkdir: true },
    ),
    ['mkdir a', 'mkdir a/b', 'copy a/b/f', 'meta a/b', 'meta a'],
  );
});

test('nothing is deleted under a directory unreadable or unscanned on either side', () => {
  for (const [a, b] of [
    [{ ...dir(), error: 'EACCES: permission denied' }, dir()],
    [{ ...dir(), unscanned: 'mount point' }, dir()],
    [dir(), { ...dir(), error: 'EACCES: permission denied' }],
  ] as const) {
    assert.deepEqual(
      plan([
        { path: 'd', change: 'same', a, b },
        { path: 'd/x', change: 'b-only', b: file() },
        { path: 'y', change: 'b-only', b: file() },
      ]),
      ['remove y'],
    );
  }
});

test('the root gets its time back when its contents changed, or its mode when that differs', () => {
  assert.deepEqual(plan([{ path: 'x', change: 'a-only', a: file() }], { rootA: dir(T1), rootB: dir(T1) }), ['copy x', 'meta .']);
  assert.deepEqual(plan([], { rootA: dir(T1), rootB: dir(T1) }), []);
  assert.deepEqual(plan([], { rootA: { ...dir(T1), mode: '0700' }, rootB: dir(T1) }), ['meta .']);
});

test('--copy deletes nothing, but removes cairn leftovers and keeps a directory that became a file', () => {
  assert.deepEqual(
    plan(
      [
        { path: '.cairn-tmp.123.1', change: 'b-only', b: file() },
        { path: 'd', change: 'differ', attrs: ['type'], a: file(), b: dir() },
        { path: 'd/x', change: 'b-only', b: file() },
        { path: 'f', change: 'differ', attrs: ['size', 'mtime'], a: file(2, T2), b: file(1, T1) },
        { path: 'old', change: 'b-only', b: file() },
      ],
      { mode: 'copy' },
    ),
    ['remove .cairn-tmp.123.1', 'update f'],
  );
});

test('equal content with another time is a meta, not a copy', () => {
  const a = { ...file(5, T2), hash: `sha256:${'a'.repeat(64)}` };
  const b = { ...file(5, T1), hash: `sha256:${'a'.repeat(64)}` };
  assert.deepEqual(plan([{ path: 'f', change: 'differ', attrs: ['mtime'], a, b }]), ['meta f']);
  assert.deepEqual(plan([{ path: 'f', change: 'differ', attrs: ['mtime'], a: file(5, T2), b: file(5, T1) }]), ['update f']);
});
