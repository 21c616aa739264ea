import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { twinOf } from '../../lib/diff/diff';
import type { Entry } from '../../lib/records/types';
import { records, run, tempDir } from '../helpers/run';

const file = (p: string, ino: number | string, extra = ''): string =>
  `{"path":${JSON.stringify(p)},"type":"file","size":3,"mtime":"2024-01-01T00:00:00.000000000Z","mode":"0644","uid":0,"gid":0,"ino":${typeof ino === 'number' ? ino : JSON.stringify(ino)}${extra}}`;

test('twinOf: the same line, or the same but for the inode number that ends a file line; nothing looser', () => {
  const a = file('x', 17);
  const parsed = JSON.parse(a) as Entry;
  assert.equal(twinOf(a, a, parsed), 'same');
  assert.equal(twinOf(a, file('x', 5300017), parsed), 5300017);
  assert.equal(twinOf(a, file('y', 17), parsed), undefined); // another path
  assert.equal(twinOf(a, file('x', 17).replace('"size":3', '"size":4'), parsed), undefined);
  assert.equal(twinOf(a, a.replace(':17}', ':017}'), parsed), undefined); // not JSON
  assert.equal(twinOf(a, a.replace(':17}', ': 17}'), parsed), undefined);
  assert.equal(twinOf(a, a.replace(':17}', ':-17}'), parsed), undefined);
  assert.equal(twinOf(a, a.replace(':17}', ':1234567890123456}'), parsed), undefined); // beyond 2^53 may not be exact: parsed as usual
  assert.equal(twinOf(a, file('x', '17'), parsed), undefined); // a string
  assert.equal(twinOf(a, file('x', 18, ',"hash":"md5:00000000000000000000000000000000"'), parsed), undefined);
  // Hard links carry nlink and dev after ino: their inode numbers matter, so they are parsed.
  const linked = file('x', 17, ',"nlink":2,"dev":1');
  assert.equal(twinOf(linked, file('x', 18, ',"nlink":2,"dev":1'), JSON.parse(linked) as Entry), undefined);
  // The last "ino" inside a nested value: not the record's inode number, so b (here not even JSON) is parsed.
  const nested = '{"path":"b","type":"file","size":1,"ino":77,"x":{"q":1,"ino":5}}';
  assert.equal(twinOf(nested, '{"path":"b","type":"file","size":1,"ino":77,"x":{"q":1,"ino":66}', JSON.parse(nested) as Entry), undefined);
  // An "ino" key earlier in the line, with another after it: a is not a line ending in its inode number.
  const twoKeys = '{"path":"x","type":"file","ino":1,"size":3,"ino":2}';
  assert.equal(twinOf(twoKeys, '{"path":"x","type":"file","ino":1,"size":3,"ino":5}', JSON.parse(twoKeys) as Entry), 5);
});

test('cairn-diff gives the same records whether B\'s lines are twins of A\'s or written another way', async () => {
  const dir = tempDir('cairn-twins-');
  const header = (root: string) => JSON.stringify({ cairn: 'entries', version: 1, root, hash: null, caps: { mtime_precision_ns: 1 }, filters: [], options: {}, tool: 'test', created: '2024-01-01T00:00:00.000Z' });
  const a: string[] = [];
  const b: string[] = [];
  a.push('{"path":"d","type":"dir","mtime":"2024-01-01T00:00:00.000000000Z","mode":"0755","uid":0,"gid":0}');
  b.push(a[0]!);
  for (let i = 0; i < 300; i++) {
    const p = `d/f${String(i).padStart(3, '0')}`;
    a.push(file(p, 1000 + i));
    if (i % 50 === 7) b.push(file(p, 9000 + i).replace('"size":3', '"size":9')); // differs
    else if (i % 50 === 8) b.push(file(p, 1000 + i, ',"nlink":2,"dev":5')); // a hard link on b
    else if (i % 50 === 9) continue; // a-only
    else if (i % 3 === 0) b.push(a[a.length - 1]!); // the same line
    else b.push(file(p, 90000 + i)); // the same but the inode number
  }
  // Names that are not ASCII: twins by their bytes. "Ã©" is "é" read as latin1, and the two must not be taken for each other.
  a.push(file('d/Ã©', 6000), file('d/é', 5000));
  b.push(file('d/Ã©', 6000).replace('"size":3', '"size":9'), file('d/é', 5001));
  a.push('{"path":"e","type":"symlink","mtime":"2024-01-01T00:00:00.000000000Z","mode":"0777","uid":0,"gid":0,"target":"a,\\"ino\\":1"}');
  b.push(a[a.length - 1]!);
  b.push('{"path":"z","type":"dir","mtime":"2024-01-01T00:00:00.000000000Z","mode":"0755","uid":0,"gid":0}');
  const write = (name: string, root: string, lines: string[]) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, [header(root), ...lines, '{"cairn":"end"}', ''].join('\n'));
    return f;
  };
  const fa = write('a.ndjson', '/a', a);
  const fb = write('b.ndjson', '/b', b);
  // The same records with their keys in another order: no line of it is any line's twin.
  const fbSorted = write('b-sorted.ndjson', '/b', b.map((l) => JSON.stringify(Object.fromEntries(Object.entries(JSON.parse(l)).sort()))));
  for (const flags of [[], ['--all']]) {
    const [twins, parsed] = await Promise.all([run('cairn-diff', [...flags, fa, fb]), run('cairn-diff', [...flags, fa, fbSorted])]);
    assert.equal(twins.code, 0, twins.stderr);
    assert.equal(parsed.code, 0, parsed.stderr);
    const strip = (t: string) => records(t).slice(1);
    assert.deepEqual(strip(twins.stdout), strip(parsed.stdout), flags.join(' '));
    if (flags.length > 0) {
      const same = records(twins.stdout).filter((r) => r.change === 'same' && (r.path as string).startsWith('d/f'));
      assert.ok(same.length > 200);
      for (const r of same) assert.equal((r.b as Entry).ino, b.map((l) => JSON.parse(l) as Entry).find((e) => e.path === r.path)!.ino, `${r.path}: b's own inode number`);
    }
  }
  // Twins only between streams whose headers name the same hash algorithm: B's own header still judges B's hashes.
  const hashed = (l: string) => l.replace(/}$/, ',"hash":"sha256:' + 'ab'.repeat(32) + '"}');
  const fh = path.join(dir, 'ha.ndjson');
  fs.writeFileSync(fh, [header('/a').replace('"hash":null', '"hash":"sha256"'), ...a.map((l) => (l.includes('"type":"file"') ? hashed(l) : l)), '{"cairn":"end"}', ''].join('\n'));
  const fhNull = path.join(dir, 'hb.ndjson');
  fs.writeFileSync(fhNull, [header('/b'), ...a.map((l) => (l.includes('"type":"file"') ? hashed(l) : l)), '{"cairn":"end"}', ''].join('\n'));
  const noAlg = await run('cairn-diff', [fh, fhNull]);
  assert.equal(noAlg.code, 2);
  assert.match(noAlg.stderr, /hb\.ndjson:3: hash: the header names no hash algorithm/);
  // A twin line out of order is still refused, with its line number.
  const swapped = b.slice();
  [swapped[1], swapped[2]] = [swapped[2]!, swapped[1]!];
  const bad = await run('cairn-diff', [fa, write('b-swapped.ndjson', '/b', swapped)]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /b-swapped\.ndjson:[34]: path: out of canonical order/);
});
