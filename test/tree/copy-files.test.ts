import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { CopyBatch, type CopySpec } from '../../lib/tree/local/copy-files';
import { StaleError } from '../../lib/tree/local/write';
import { isRoot, smallTmpfs, tempDir } from '../helpers/run';

/** The spec of a copy of `file` as it is now. */
function specOf(file: string, extra: Partial<CopySpec> = {}): CopySpec {
  const st = fs.statSync(file, { bigint: true });
  return {
    size: Number(st.size),
    mtimeSec: Number(st.mtimeNs / 1_000_000_000n),
    mtimeNsec: Number(st.mtimeNs % 1_000_000_000n),
    mode: -1,
    uid: -1,
    gid: -1,
    fsync: false,
    ...extra,
  };
}

function copyAll(jobs: [string, string, string, CopySpec][]): (number | 'sparse' | Error)[] {
  const b = new CopyBatch(jobs.length);
  for (const [src, tmp, dst, spec] of jobs) b.add(src, tmp, dst, spec);
  b.start();
  b.finish();
  const out = jobs.map((_, k) => b.outcome(k));
  b.clear();
  return out;
}

test('copyFiles: the copy, its mode and its time to the nanosecond; a temporary name and a final name spelt with doubled slashes are one directory', () => {
  const d = tempDir('cairn-copy-files-');
  fs.writeFileSync(path.join(d, 'src'), 'content');
  const [r] = copyAll([[path.join(d, 'src'), `${d}//.cairn-tmp.1`, `${d}/dst`, specOf(path.join(d, 'src'), { mode: 0o640 })]]);
  assert.equal(r, 7);
  assert.equal(fs.readFileSync(path.join(d, 'dst'), 'utf8'), 'content');
  assert.equal(fs.statSync(path.join(d, 'dst')).mode & 0o7777, 0o640);
  assert.equal(fs.statSync(path.join(d, 'dst'), { bigint: true }).mtimeNs, fs.statSync(path.join(d, 'src'), { bigint: true }).mtimeNs);
  assert.deepEqual(fs.readdirSync(d).sort(), ['dst', 'src']);
});

test('copyFiles: a final name in another directory than the temporary one is refused before anything is made', () => {
  const d = tempDir('cairn-copy-files-');
  fs.mkdirSync(path.join(d, 'other'));
  fs.writeFileSync(path.join(d, 'src'), 'x');
  const [r] = copyAll([[path.join(d, 'src'), path.join(d, '.cairn-tmp.1'), path.join(d, 'other', 'dst'), specOf(path.join(d, 'src'))]]);
  assert.ok(r instanceof Error && (r as NodeJS.ErrnoException).code === 'EXDEV', String(r));
  assert.deepEqual(fs.readdirSync(d).sort(), ['other', 'src']);
  assert.deepEqual(fs.readdirSync(path.join(d, 'other')), []);
});

test('copyFiles: with bare names (relative to the working directory), an object at the final name is stale and the temporary file goes', () => {
  const d = tempDir('cairn-copy-files-');
  const before = process.cwd();
  process.chdir(d);
  try {
    fs.writeFileSync('src', 'new');
    fs.writeFileSync('dst', 'someone else\'s');
    const [r] = copyAll([['src', '.cairn-tmp.1', 'dst', specOf('src')]]);
    assert.ok(r instanceof StaleError, String(r));
    assert.equal((r as Error).message, 'changed since the scan: something is there now');
    assert.equal(fs.readFileSync('dst', 'utf8'), 'someone else\'s');
    assert.deepEqual(fs.readdirSync('.').sort(), ['dst', 'src']);
  } finally {
    process.chdir(before);
  }
});

test('copyFiles: a copy that fills the disk stops the ones after it until the next run', { skip: !isRoot && 'needs root to mount a small tmpfs' }, () => {
  const d = tempDir('cairn-copy-files-');
  const { dir: dst, unmount } = smallTmpfs('1m');
  try {
    fs.writeFileSync(path.join(d, 'big'), Buffer.alloc(2 << 20, 1));
    fs.writeFileSync(path.join(d, 'small'), 'small');
    const big = specOf(path.join(d, 'big'));
    const small = specOf(path.join(d, 'small'));
    const r = copyAll([
      [path.join(d, 'big'), path.join(dst, '.t1'), path.join(dst, 'big'), big],
      [path.join(d, 'small'), path.join(dst, '.t2'), path.join(dst, 'small'), small],
    ]);
    assert.equal((r[0] as NodeJS.ErrnoException).code, 'ENOSPC');
    assert.equal((r[1] as NodeJS.ErrnoException).code, 'ENOTRUN');
    assert.equal((copyAll([[path.join(d, 'small'), path.join(dst, '.t3'), path.join(dst, 'small'), small]])[0] as NodeJS.ErrnoException).code, 'ENOTRUN');
    assert.deepEqual(fs.readdirSync(dst), [], 'no temporary file, nothing half made');
    CopyBatch.newRun();
    assert.deepEqual(copyAll([[path.join(d, 'small'), path.join(dst, '.t4'), path.join(dst, 'small'), small]]), [5]);
  } finally {
    unmount();
  }
});

test('copyFiles: below a destination root, a directory swapped for a symlink after the caller checked it is not written through', () => {
  const d = tempDir('cairn-copy-files-');
  const root = path.join(d, 'dest');
  const outside = path.join(d, 'outside');
  fs.mkdirSync(root);
  fs.mkdirSync(outside);
  fs.symlinkSync(outside, path.join(root, 'sub'));
  const b = new CopyBatch(2, 'write');
  const spec = { size: 3, mtimeSec: 1_600_000_000, mtimeNsec: 5, mode: 0o644, uid: -1, gid: -1, fsync: false };
  b.write(path.join(root, 'sub', '.cairn-tmp.1'), path.join(root, 'sub', 'f'), Buffer.from('abc'), { ...spec, root });
  b.write(path.join(root, '.cairn-tmp.2'), path.join(root, 'top'), Buffer.from('abc'), { ...spec, root: `${root}/` });
  b.start();
  b.finish();
  assert.equal((b.outcome(0) as NodeJS.ErrnoException).code, 'ELOOP');
  assert.equal(b.outcome(1), 3);
  b.clear();
  assert.deepEqual(fs.readdirSync(outside), [], 'nothing written outside');
  assert.equal(fs.readFileSync(path.join(root, 'top'), 'utf8'), 'abc');
  assert.equal(fs.statSync(path.join(root, 'top'), { bigint: true }).mtimeNs, 1_600_000_000_000_000_005n);
});
