import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';
import { walkLocal } from '../../lib/tree/local/walk';
import { ROOT, tempDir } from '../helpers/run';
import { makeWideTree } from '../helpers/tree';

test('the walk puts nothing while its sink says it is blocked, and loses nothing', async () => {
  const root = tempDir();
  makeWideTree(root, 5000, 100);
  let blocked = false;
  let putsWhileBlocked = 0;
  let drains = 0;
  let text = '';
  const result = await walkLocal(
    root,
    { follow: false, oneFileSystem: false, rules: [], hash: null, threads: 1, interrupted: () => false, warn: () => {} },
    {
      begin: () => {},
      put: (t) => {
        if (blocked) putsWhileBlocked++;
        text += t;
        blocked = true; // every write fills the pipe
      },
      putBytes: () => assert.fail('bytes are put only under --reuse'),
      get blocked() {
        return blocked;
      },
      drain: () =>
        new Promise<void>((resolve) =>
          setImmediate(() => {
            drains++;
            blocked = false;
            resolve();
          }),
        ),
    },
  );
  assert.equal(putsWhileBlocked, 0);
  assert.ok(drains > 10, `${drains} drains`);
  assert.equal(result.entries, 5050);
  assert.equal(text.split('\n').length - 1, 5050);
});

test('cairn-scan --version loads none of the walk: start-up stays at node\'s', () => {
  const script = `require(${JSON.stringify(path.join(ROOT, 'dist/lib/cmd/scan.js'))});
    const loaded = Object.keys(require.cache).map((f) => f.slice(${JSON.stringify(ROOT)}.length));
    process.stdout.write(JSON.stringify(loaded));`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const loaded = JSON.parse(r.stdout) as string[];
  for (const heavy of ['/node_modules/picomatch/', '/dist/lib/scan/', '/dist/lib/tree/', '/dist/lib/records/stream-reader']) {
    assert.ok(!loaded.some((f) => f.startsWith(heavy)), `${heavy} is loaded up front: ${loaded.join(' ')}`);
  }
});
