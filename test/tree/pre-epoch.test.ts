import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { records, tempDir } from '../helpers/run';
import { bash, mirror, q } from '../helpers/sync';

/** Node's utimes takes a negative time for "now": times before 1970 must still come out exact. */
const TIMES = ['1969-07-20 20:17:40.5', '1969-12-31 23:59:59.999999', '1950-01-01 00:00:00', '1969-12-31 23:59:59.000001'];

function mtimes(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of records(bash(`cairn-scan ${q(root)}`).stdout).slice(1, -1)) out[e.path as string] = e.mtime as string;
  return out;
}

test('files and directories from before 1970 keep their times through a mirror and a restore', () => {
  const src = tempDir();
  TIMES.forEach((t, i) => {
    fs.mkdirSync(path.join(src, `d${i}`));
    fs.writeFileSync(path.join(src, `d${i}/f`), String(i));
    for (const p of [`d${i}/f`, `d${i}`]) assert.equal(bash(`touch -d ${q(`${t} UTC`)} ${q(path.join(src, p))}`).code, 0);
  });
  const want = mtimes(src);
  assert.equal(want['d0/f'], '1969-07-20T20:17:40.500000000Z');
  const dst = tempDir();
  mirror(src, dst);
  assert.deepEqual(mtimes(dst), want);
  const out = tempDir();
  assert.equal(bash(`cairn-restore --from ${q(src)} -d ${q(out)}`).code, 0);
  assert.deepEqual(mtimes(out), want);
});
