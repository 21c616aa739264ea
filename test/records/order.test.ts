import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareKeyed, compareNames, comparePathBytes, comparePaths } from '../../lib/records/order';

const sorted = (xs: string[]) => xs.slice().sort(comparePaths);

test('a directory comes before its children, its children before its next sibling', () => {
  assert.deepEqual(sorted(['a.txt', 'a/c', 'a', 'a/b', 'b', 'a-b', 'a/b/c']), ['a', 'a/b', 'a/b/c', 'a/c', 'a-b', 'a.txt', 'b']);
});

test('order is by UTF-8 bytes: astral characters sort after U+FFFD and other high BMP', () => {
  const astral = '\u{1F600}'; // UTF-8 F0 9F 98 80
  const high = '\uFFFD'; // EF BF BD
  const cjk = '\u4E2D'; // E4 B8 AD
  assert.deepEqual(sorted([astral, high, cjk, 'z', 'é']), ['z', 'é', cjk, high, astral]);
  const byBytes = [astral, high, cjk, 'z', 'é'].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
  assert.deepEqual(sorted([astral, high, cjk, 'z', 'é']), byBytes);
  assert.ok(compareNames(astral, high) > 0);
});

test('comparePaths agrees with byte comparison where / is the lowest byte, on random paths', () => {
  const alphabet = ['a', 'b', '/', '.', '-', 'é', '\u{10000}', '\uE000', ' '];
  const key = (s: string) => Buffer.from(s.replace(/\//g, '\u0000'));
  for (let n = 0; n < 2000; n++) {
    const mk = () => Array.from({ length: 1 + Math.floor(Math.random() * 5) }, () => alphabet[Math.floor(Math.random() * alphabet.length)]).join('');
    const a = mk();
    const b = mk();
    assert.equal(Math.sign(comparePaths(a, b)), Math.sign(Buffer.compare(key(a), key(b))), `${a} vs ${b}`);
    assert.equal(Math.sign(comparePathBytes(Buffer.from(a), Buffer.from(b))), Math.sign(Buffer.compare(key(a), key(b))));
  }
});

test('records with raw bytes are ordered by those bytes', () => {
  const raw = { path: 'caf\\xe9', path_b64: Buffer.from([0x63, 0x61, 0x66, 0xe9]).toString('base64') };
  assert.ok(compareKeyed({ path: 'caf' }, raw) < 0);
  assert.ok(compareKeyed(raw, { path: 'cafz' }) > 0); // 0xE9 > 'z'
  assert.ok(compareKeyed(raw, { path: 'caf/x' }) > 0);
  assert.equal(compareKeyed(raw, { ...raw }), 0);
});
