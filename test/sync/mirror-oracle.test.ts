import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { tempDir, sh } from '../helpers/run';
import { mirrorPlanned, q, rsyncDifferences } from '../helpers/sync';
import { TreeMaker, prng } from '../helpers/random-tree';

for (const seed of [1, 2, 3, 4, 5, 6]) {
  test(`mirror of a random tree, mutated, matches rsync's idea of equal (seed ${seed})`, () => {
    const base = tempDir();
    const src = path.join(base, 'src');
    const dst = path.join(base, 'dst');
    fs.mkdirSync(src);
    fs.mkdirSync(dst);
    const maker = new TreeMaker(src, prng(seed));
    maker.fill(src, 3);

    const first = mirrorPlanned(src, dst);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(rsyncDifferences(src, dst), '', 'after the first mirror');

    for (let round = 0; round < 3; round++) {
      const done = Array.from({ length: 12 }, () => maker.mutate());
      const r = mirrorPlanned(src, dst);
      assert.equal(r.code, 0, `${r.stderr}\nmutations: ${done.join('; ')}`);
      assert.equal(rsyncDifferences(src, dst), '', `round ${round}, mutations: ${done.join('; ')}`);
      const check = sh(`cairn-diff --check ${q(src)} ${q(dst)}`);
      assert.equal(check.stdout, '', 'cairn-diff --check finds no difference either');
      assert.equal(check.code, 0, check.stderr);
      const again = mirrorPlanned(src, dst);
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(again.actions, [], `a second run plans nothing (round ${round}, mutations: ${done.join('; ')})`);
    }
  });
}
