import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers/run';

test('directory times kept for the end do not hold on to the source\'s read buffer (memory stays flat in the number of directories)', () => {
  const dest = tempDir('cairn-dirtimes-');
  const lib = path.join(__dirname, '..', '..', 'lib', 'restore');
  // In a process with gc exposed: names handed out as views of a 1 MiB read buffer, as the tar reader does;
  // once the reader lets go of the buffer, nothing the restorer kept may hold it alive.
  const script = `
    const { Restorer } = require(${JSON.stringify(path.join(lib, 'restorer.js'))});
    const { destCaps } = require(${JSON.stringify(path.join(lib, 'run.js'))});
    const dest = ${JSON.stringify(dest)};
    const r = new Restorer({ dest, overwrite: 'never', dryRun: false, ...destCaps(dest) });
    let chunk = Buffer.allocUnsafeSlow(1 << 20).fill(0x20);
    const gone = new WeakRef(chunk.buffer);
    chunk.write('alpha');
    const out = r.dir({ name: chunk.subarray(0, 5), type: 'dir', size: 0, mode: 0o750, uid: 0, gid: 0, mtimeSec: 1e9, mtimeNsec: 0 });
    chunk = undefined;
    setImmediate(() => {
      global.gc();
      process.stdout.write(JSON.stringify({ status: out.status, held: gone.deref() !== undefined }));
      r.finish();
    });`;
  const got = JSON.parse(execFileSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8' })) as { status: string; held: boolean };
  assert.deepEqual(got, { status: 'done', held: false });
});
