import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { records, tempDir } from '../helpers/run';
import { bash, q } from '../helpers/sync';

/*
 * In a directory the restore made itself, a file's target is not looked at
 * before it is written (nothing can be there): unless the archive already
 * wrote that name in this run. A tar holding one name twice must still meet
 * --overwrite.
 */
function twice(): string {
  const w = tempDir();
  for (const [d, body] of [['v1', 'first\n'], ['v2', 'second, longer\n']] as const) {
    fs.mkdirSync(path.join(w, d, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(w, d, 'sub/f'), body);
  }
  assert.equal(bash(`tar -cf ${q(`${w}/t.tar`)} -C ${q(`${w}/v1`)} sub && tar -rf ${q(`${w}/t.tar`)} -C ${q(`${w}/v2`)} sub/f`).code, 0);
  assert.equal(bash(`tar -tf ${q(`${w}/t.tar`)}`).stdout, 'sub/\nsub/f\nsub/f\n');
  return `${w}/t.tar`;
}

test('a name a tar holds twice, in a directory the restore made: the second meets --overwrite never, and is kept out', () => {
  const tar = twice();
  const out = tempDir();
  const r = bash(`cairn-restore -d ${q(out)} --tar ${q(tar)}`);
  assert.equal(r.code, 1, r.stderr);
  const res = records(r.stdout).slice(1, -1).map((o) => [o.path, o.status]);
  assert.deepEqual(res, [['sub', 'done'], ['sub/f', 'done'], ['sub/f', 'skipped']]);
  assert.equal(fs.readFileSync(path.join(out, 'sub/f'), 'utf8'), 'first\n');
});

test('... and with --overwrite always, the later one wins, whole', () => {
  const tar = twice();
  const out = tempDir();
  const r = bash(`cairn-restore --overwrite always -d ${q(out)} --tar ${q(tar)}`);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(fs.readFileSync(path.join(out, 'sub/f'), 'utf8'), 'second, longer\n');
  assert.deepEqual(fs.readdirSync(path.join(out, 'sub')), ['f']);
});
