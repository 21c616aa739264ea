import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { records, sh, tempDir } from '../helpers/run';
import { mirror, q, rsyncSays } from '../helpers/pipeline';

test('--moves turns a removal plus an addition of the same file into one move, in either order', () => {
  const base = tempDir();
  const src = path.join(base, 'src');
  const dst = path.join(base, 'dst');
  fs.mkdirSync(path.join(src, 'm'), { recursive: true });
  fs.mkdirSync(dst);
  for (const n of ['a', 'b', 'c']) fs.writeFileSync(path.join(src, 'm', n), Buffer.alloc(50_000, n));
  assert.equal(mirror(src, dst).code, 0);
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
  assert.equal(rsyncSays(src, dst), '');
  assert.deepEqual(mirror(src, dst).actions, []);
  assert.deepEqual(fs.readdirSync(dst).filter((n) => n.startsWith('.cairn-tmp')), []);
});
