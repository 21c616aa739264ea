import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { records, sh, tempDir } from '../helpers/run';
import { mirrorPlanned, q, rsyncDifferences } from '../helpers/sync';

test('--moves turns a removal plus an addition of the same file into one move, in either order', () => {
  const base = tempDir();
  const src = path.join(base, 'src');
  const dst = path.join(base, 'dst');
  fs.mkdirSync(path.join(src, 'm'), { recursive: true });
  fs.mkdirSync(dst);
  for (const n of ['a', 'b', 'c']) fs.writeFileSync(path.join(src, 'm', n), Buffer.alloc(50_000, n));
  assert.equal(mirrorPlanned(src, dst).code, 0);
  const inode = (p: string) => fs.statSync(path.join(dst, p)).ino;
  const before = { a: inode('m/a'), b: inode('m/b'), c: inode('m/c') };
  fs.mkdirSync(path.join(src, '0'));
  fs.mkdirSync(path.join(src, 'z'));
  fs.renameSync(path.join(src, 'm', 'a'), path.join(src, '0', 'a')); // new place before the old one
  fs.renameSync(path.join(src, 'm', 'b'), path.join(src, 'z', 'b')); // after it
  fs.renameSync(path.join(src, 'm', 'c'), path.join(src, 'm', 'renamed')); // renamed: paired by content
  const r = sh(`set -o pipefail; cairn-diff --hash sha256 ${q(src)} ${q(dst)} | cairn-plan --mirror --moves --stats > ${q(path.join(base, 'plan'))} && cairn-apply ${q(path.join(base, 'plan'))} > /dev/null`);
  assert.equal(r.code, 0, r.stderr);
  const ops = records(fs.readFileSync(path.join(base, 'plan'), 'utf8')).filter((x) => x.op);
  assert.equal(ops.filter((x) => x.op === 'copy' || x.op === 'remove').length, 0, 'nothing copied or removed');
  assert.match(r.stderr, /0 B to copy, 0 B to delete/);
  assert.equal(inode('0/a'), before.a);
  assert.equal(inode('z/b'), before.b);
  assert.equal(inode('m/renamed'), before.c);
  assert.equal(rsyncDifferences(src, dst), '');
  assert.deepEqual(mirrorPlanned(src, dst).actions, []);
  assert.deepEqual(fs.readdirSync(dst).filter((n) => n.startsWith('.cairn-tmp')), []);
});

test('--moves never pairs two files whose hashes differ, nor one the plan leaves alone', () => {
  const base = tempDir();
  const src = path.join(base, 'src');
  const dst = path.join(base, 'dst');
  fs.mkdirSync(path.join(src, 'a'), { recursive: true });
  fs.mkdirSync(path.join(src, 'z'), { recursive: true });
  fs.mkdirSync(path.join(dst, 'z'), { recursive: true });
  fs.writeFileSync(path.join(src, 'a', 'f'), 'content B');
  fs.writeFileSync(path.join(dst, 'z', 'f'), 'content A');
  fs.writeFileSync(path.join(src, 'a', 'g'), 'same');
  fs.writeFileSync(path.join(dst, 'z', 'g'), 'same');
  for (const p of ['src/a/f', 'dst/z/f', 'src/a/g', 'dst/z/g']) sh(`touch -d '2020-01-01 00:00:00' ${q(path.join(base, p))}`);
  const plan = (flags: string) => {
    const r = sh(`set -o pipefail; cairn-diff --hash sha256 ${q(src)} ${q(dst)} | cairn-plan --mirror --max-delete=off --moves ${flags}`);
    assert.equal(r.code, 0, r.stderr);
    return records(r.stdout).filter((x) => x.op && x.op !== 'meta' && x.op !== 'mkdir').map((x) => `${x.op} ${x.path}${x.from ? ` < ${x.from}` : ''}`);
  };
  // Same size, time and name for both pairs; only g's hashes agree.
  assert.deepEqual(plan(''), ['copy a/f', 'move a/g < z/g', 'remove z/f']);
  // With --newer-than leaving the new files out, their partners are not moved either.
  assert.deepEqual(plan('--newer-than 2021-01-01'), ['remove z/f', 'remove z/g']);
});
