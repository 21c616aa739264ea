import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { Confinement } from '../../lib/restore/confine';
import { tempDir } from '../helpers/run';

/** Names in turn as the restorer places them (collision, then the directories above made): the clash of each, or ''. */
function clashes(dest: string, foldCase: boolean, names: string[]): string[] {
  const c = new Confinement(dest, foldCase);
  return names.map((n) => {
    const rel = Buffer.from(n);
    const clash = c.collision(rel);
    if (clash !== undefined) return clash;
    assert.equal(c.ancestors(rel, false), undefined, n);
    return '';
  });
}

test('collision: a name at the top that folds onto a directory that was there before the run is met by the next name below it', () => {
  const dest = tempDir('cairn-confine-');
  fs.mkdirSync(path.join(dest, 'docs'));
  const got = clashes(dest, true, ['docs/a', 'Docs', 'docs/b']);
  assert.deepEqual(got.slice(0, 2), ['', '']);
  assert.match(got[2]!, /^collides with "Docs" once normalized and case-folded/);
});

test('collision: the same with NFC and NFD spellings, case kept', () => {
  const dest = tempDir('cairn-confine-');
  const nfd = 'e\u0301';
  fs.mkdirSync(path.join(dest, nfd));
  const got = clashes(dest, false, [`${nfd}/a`, '\u00e9', `${nfd}/b`]);
  assert.deepEqual(got.slice(0, 2), ['', '']);
  assert.match(got[2]!, /^collides with "\u00e9" once normalized \(NFC\)/);
});

test('collision: names of one directory after another are checked as the first was (the directory above collides with an earlier name)', () => {
  const dest = tempDir('cairn-confine-');
  const got = clashes(dest, true, ['A', 'a/x', 'a/y', 'b/x', 'a/z']);
  assert.equal(got[0], '');
  for (const k of [1, 2, 4]) assert.match(got[k]!, /^collides with "A"/, `name ${k}`);
  assert.equal(got[3], '');
});
