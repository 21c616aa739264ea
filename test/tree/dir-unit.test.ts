import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { compileFilter } from '../../lib/filter/rules';
import { CHUNK_LINES, dirUnit, type UnitChunk, type UnitOptions } from '../../lib/tree/local/dir-unit';
import { tempDir } from '../helpers/run';

const idOf = (p: string) => {
  const st = fs.statSync(p);
  return `${st.dev}:${st.ino}`;
};

const OPTS: UnitOptions = { follow: false, oneFileSystem: false, rules: [], hash: null, hashHere: true, rootDev: '0' };

test('an object that vanishes between listing and lstat is simply left out', () => {
  const root = tempDir();
  const n = CHUNK_LINES + 500;
  for (let i = 0; i < n; i++) fs.writeFileSync(path.join(root, `f${String(i).padStart(5, '0')}`), '');
  const gen = dirUnit({ path: '', abs: root, id: idOf(root), ancestors: [], size: 0 }, OPTS, compileFilter([]));
  const first = gen.next().value as UnitChunk; // listed everything, examined the first chunk
  assert.equal(first.count, CHUNK_LINES);
  const victim = `f${String(CHUNK_LINES + 10).padStart(5, '0')}`;
  fs.unlinkSync(path.join(root, victim));
  const second = gen.next().value as UnitChunk;
  assert.equal(second.last, true);
  assert.equal(second.count, 499);
  assert.equal(second.warnings.length, 0);
  assert.ok(!second.text.includes(`"${victim}"`));
});

test('a directory removed before it is listed reports gone, not an error', () => {
  const root = tempDir();
  const gen = dirUnit({ path: 'x', abs: path.join(root, 'x'), id: '1:1', ancestors: [], size: 0 }, OPTS, compileFilter([]));
  const chunk = gen.next().value as UnitChunk;
  assert.deepEqual([chunk.gone, chunk.error, chunk.last], [true, undefined, true]);
});

test('a directory swapped for a link (or a file) after its parent saw it is not listed through', () => {
  const root = tempDir();
  const outside = tempDir();
  fs.writeFileSync(path.join(outside, 'SECRET'), 's');
  const d = path.join(root, 'd');
  fs.mkdirSync(d);
  const job = { path: 'd', abs: d, id: idOf(d), ancestors: [], size: 0 };
  fs.rmdirSync(d);
  fs.symlinkSync(outside, d);
  const viaLink = dirUnit(job, OPTS, compileFilter([])).next().value as UnitChunk;
  assert.deepEqual([viaLink.error, viaLink.count, viaLink.last], ['changed during scan: no longer the directory that was seen', 0, true]);
  fs.unlinkSync(d);
  fs.writeFileSync(d, 'now a file');
  const viaFile = dirUnit(job, OPTS, compileFilter([])).next().value as UnitChunk;
  assert.equal(viaFile.gone, undefined, 'a replaced directory is not "gone": something else is there');
  assert.equal(viaFile.error, 'changed during scan: no longer the directory that was seen');
});

test('under --reuse a chunk holds two ctime numbers a line, numbers for its files only, across chunks', () => {
  const root = tempDir();
  const n = CHUNK_LINES + 300;
  for (let i = 0; i < n; i++) {
    const p = path.join(root, `e${String(i).padStart(5, '0')}`);
    if (i % 10 === 3) fs.mkdirSync(p);
    else if (i % 10 === 7) fs.symlinkSync('elsewhere', p);
    else fs.writeFileSync(p, String(i));
  }
  const opts: UnitOptions = { ...OPTS, hash: 'sha256', hashHere: false };
  let lines = 0;
  for (const chunk of dirUnit({ path: '', abs: root, id: idOf(root), ancestors: [], size: 0 }, opts, compileFilter([]))) {
    const texts = chunk.text.split('\n').slice(0, -1);
    assert.equal(texts.length, chunk.count);
    assert.equal(chunk.ctimes?.length, 2 * chunk.count, 'two numbers a line: the walk trusts them to tell a file');
    texts.forEach((t, k) => {
      const e = JSON.parse(t) as { path: string; type: string; hash?: string };
      assert.equal(e.hash, undefined, 'hashes are the coordinator\'s to settle');
      if (e.type === 'file') {
        const st = fs.lstatSync(path.join(root, e.path), { bigint: true });
        assert.equal(BigInt(chunk.ctimes![2 * k]!) * 1_000_000_000n + BigInt(chunk.ctimes![2 * k + 1]!), st.ctimeNs, e.path);
      } else assert.ok(Number.isNaN(chunk.ctimes![2 * k]) && Number.isNaN(chunk.ctimes![2 * k + 1]), e.path);
    });
    lines += chunk.count;
  }
  assert.equal(lines, n);
});
