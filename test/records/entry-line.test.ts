import assert from 'node:assert/strict';
import { test } from 'node:test';
import { entryLine } from '../../lib/records/entry-line';
import type { Entry } from '../../lib/records/types';

test('fields come out in the documented order, whatever order they were set in', () => {
  const e = { error: 'EIO: i/o error', hash: 'md5:' + '0'.repeat(32), ino: 7, path: 'a', type: 'file', size: 3, gid: 2, uid: 1, mode: '0644', mtime: '2024-03-01T10:11:12.123456789Z' } as Entry;
  assert.equal(entryLine(e), '{"path":"a","type":"file","size":3,"mtime":"2024-03-01T10:11:12.123456789Z","mode":"0644","uid":1,"gid":2,"ino":7,"hash":"md5:00000000000000000000000000000000","error":"EIO: i/o error"}');
});

test('strings are escaped exactly as JSON.stringify does; big inode numbers stay strings', () => {
  const nasty = 'new\nline "quoted" back\\slash tab\t nul\u0000 \u2028 déjà \u{1F600} \ud800';
  const e = { path: nasty, type: 'symlink', mtime: '2024-03-01T10:11:12.123456789Z', target: nasty, ino: '18446744073709551615', nlink: 2, dev: 3 } as Entry;
  const line = entryLine(e);
  assert.deepEqual(JSON.parse(line), e);
  assert.equal(line, JSON.stringify({ path: nasty, type: 'symlink', mtime: e.mtime, target: nasty, ino: e.ino, nlink: 2, dev: 3 }));
});
