import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { compileFilter } from '../../lib/filter/rules';
import { CHUNK_LINES, dirUnit, type UnitChunk, type UnitOptions } from '../../lib/tree/local/dir-unit';
import { tempDir } from '../helpers/run';

const OPTS: UnitOptions = { follow: false, oneFileSystem: false, rules: [], hash: null, hashHere: true, rootDev: '0' };

test('an object that vanishes between listing and lstat is simply left out', () => {
  const root = tempDir();
  const n = CHUNK_LINES + 500;
  for (let i = 0; i < n; i++) fs.writeFileSync(path.join(root, `f${String(i).padStart(5, '0')}`), '');
  const gen = dirUnit({ path: '', abs: root, ancestors: [], size: 0 }, OPTS, compileFilter([]));
  const first = gen.next().value as UnitChunk; // listed everything, examined the first chunk
  assert.equal(first.count, CHUNK_LINES);
  const victim = `f${String(CHUNK_LINES + 10).padStart(5, '0')}`;
  fs.unlinkSync(path.join(root, victim));
  const second = gen.next().value as UnitChunk;
  assert.equal(second.last, true);
  assert.equal(second.count, 499);
  assert.equal(second.problems, 0);
  assert.ok(!second.text.includes(`"${victim}"`));
});

test('a directory removed before it is listed reports gone, not an error', () => {
  const root = tempDir();
  const gen = dirUnit({ path: 'x', abs: path.join(root, 'x'), ancestors: [], size: 0 }, OPTS, compileFilter([]));
  const chunk = gen.next().value as UnitChunk;
  assert.deepEqual([chunk.gone, chunk.error, chunk.last], [true, undefined, true]);
});
