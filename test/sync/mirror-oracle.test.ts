import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { records, sh, tempDir } from '../helpers/run';
import { TreeMaker, prng } from '../helpers/random-tree';

export function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** diff | plan --mirror | apply, returning the plan's actions and the pipeline's exit code. */
export function mirror(src: string, dst: string, planFlags = '--max-delete=off'): { actions: Record<string, unknown>[]; code: number | null; stderr: string } {
  const plan = path.join(path.dirname(dst), 'plan.ndjson');
  const r = sh(`set -o pipefail; cairn-diff ${q(src)} ${q(dst)} | cairn-plan --mirror ${planFlags} > ${q(plan)} && cairn-apply ${q(plan)} > /dev/null`);
  const actions = records(fs.readFileSync(plan, 'utf8')).filter((x) => typeof x.op === 'string');
  return { actions, code: r.code, stderr: r.stderr };
}

/** What rsync, the oracle, still finds to do: nothing after a good mirror. */
export function rsyncSays(src: string, dst: string): string {
  const r = sh(`rsync -aniH --delete --checksum ${q(src)}/ ${q(dst)}/`);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

for (const seed of [1, 2, 3, 4, 5, 6]) {
  test(`mirror of a random tree, mutated, matches rsync's idea of equal (seed ${seed})`, () => {
    const base = tempDir();
    const src = path.join(base, 'src');
    const dst = path.join(base, 'dst');
    fs.mkdirSync(src);
    fs.mkdirSync(dst);
    const maker = new TreeMaker(src, prng(seed));
    maker.fill(src, 3);

    const first = mirror(src, dst);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(rsyncSays(src, dst), '', 'after the first mirror');

    for (let round = 0; round < 3; round++) {
      const done = Array.from({ length: 12 }, () => maker.mutate());
      const r = mirror(src, dst);
      assert.equal(r.code, 0, `${r.stderr}\nmutations: ${done.join('; ')}`);
      assert.equal(rsyncSays(src, dst), '', `round ${round}, mutations: ${done.join('; ')}`);
      const check = sh(`cairn-diff --check ${q(src)} ${q(dst)}`);
      assert.equal(check.stdout, '', 'cairn-diff --check finds no difference either');
      assert.equal(check.code, 0, check.stderr);
      const again = mirror(src, dst);
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(again.actions, [], `a second run plans nothing (round ${round}, mutations: ${done.join('; ')})`);
    }
  });
}
