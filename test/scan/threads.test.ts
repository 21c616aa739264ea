import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { records, run, tempDir } from '../helpers/run';
import { makeWideTree } from '../helpers/tree';

/** Output without the creation time, which differs from run to run. */
const stable = (s: string) => s.replace(/"created":"[^"]+"/, '');

/** A tree big enough for the walk to start worker threads, with the awkward cases inside. */
function buildMixed(): string {
  const root = tempDir();
  makeWideTree(path.join(root, 'wide'), 12000, 300);
  const huge = path.join(root, 'huge'); // more children than one chunk holds
  fs.mkdirSync(huge);
  for (let i = 0; i < 5000; i++) fs.writeFileSync(path.join(huge, `h${i}`), String(i));
  const raw = Buffer.concat([Buffer.from(`${root}/`), Buffer.from([0x72, 0xe9, 0x73])]);
  fs.mkdirSync(raw);
  for (let i = 0; i < 50; i++) fs.writeFileSync(Buffer.concat([raw, Buffer.from(`/f${i}`)]), 'r');
  fs.symlinkSync('wide', path.join(root, 'link'));
  return root;
}

test('worker threads change nothing: same bytes with 0, 1 and 3 threads, hashed or not, with --reuse', async () => {
  const root = buildMixed();
  for (const extra of [[], ['--hash', 'md5'], ['--exclude', '*7*']]) {
    const outputs = await Promise.all(['0', '1', '3'].map((n) => run('cairn-scan', ['--threads', n, ...extra, root])));
    for (const r of outputs) assert.equal(r.code, 0, r.stderr);
    assert.equal(stable(outputs[1]!.stdout), stable(outputs[0]!.stdout), `threads 1 vs 0 ${extra.join(' ')}`);
    assert.equal(stable(outputs[2]!.stdout), stable(outputs[0]!.stdout), `threads 3 vs 0 ${extra.join(' ')}`);
  }
  const base = await run('cairn-scan', ['--threads', '0', '--hash', 'sha1', root]);
  const recs = records(base.stdout);
  assert.equal(recs.length, 2 + 1 + 12000 + 40 + 1 + 5000 + 1 + 50 + 1); // header, wide/, files, dirs, huge/, files, raw/, files, link, end
  const prev = path.join(tempDir(), 'prev');
  fs.writeFileSync(prev, base.stdout);
  for (const n of ['0', '2']) {
    const again = await run('cairn-scan', ['--threads', n, '--hash', 'sha1', '--reuse', prev, root]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(stable(again.stdout), stable(base.stdout), `--reuse with ${n} threads`);
  }
});

test('the fast stat path and the public fs API give the same bytes', async (t) => {
  const { usingBinding } = await import('../../lib/tree/local/stat');
  t.diagnostic(usingBinding ? 'fast stat binding in use' : 'fast stat binding refused its self-check: both runs use the public API');
  const root = buildMixed();
  const env = { ...process.env, CAIRN_PORTABLE_STAT: '1' };
  for (const extra of [['--threads', '0'], ['--hash', 'md5'], ['--follow']]) {
    const [fast, portable] = await Promise.all([run('cairn-scan', [...extra, root]), run('cairn-scan', [...extra, root], { env })]);
    assert.equal(fast.code, 0, fast.stderr);
    assert.equal(stable(fast.stdout), stable(portable.stdout), extra.join(' '));
  }
});

test('--threads takes a whole number', async () => {
  const r = await run('cairn-scan', ['--threads', 'many', '.']);
  assert.deepEqual([r.code, r.stderr], [2, 'cairn-scan: --threads many: must be a whole number from 0 to 64\n']);
});
