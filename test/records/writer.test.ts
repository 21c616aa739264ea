import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { NdjsonWriter } from '../../lib/records/writer';

test('respects backpressure from a slow consumer and keeps lines whole', async () => {
  const chunks: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const slow = new Writable({
    highWaterMark: 1024,
    write(chunk: Buffer, _enc, cb) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      chunks.push(chunk.toString());
      setTimeout(() => {
        inFlight--;
        cb();
      }, 1);
    },
  });
  const w = new NdjsonWriter(slow);
  let blockedSeen = 0;
  for (let i = 0; i < 20000; i++) {
    w.write({ path: `f${i}`, n: i });
    if (w.blocked) {
      blockedSeen++;
      await w.drain();
    }
  }
  await w.end();
  assert.ok(blockedSeen > 0, 'the writer never reported backpressure');
  assert.ok(slow.writableLength <= 1 << 17, 'unbounded buffering');
  for (const c of chunks) assert.ok(c.endsWith('\n'), 'a write ended inside a line');
  const lines = chunks.join('').split('\n');
  assert.equal(lines.length, 20002);
  assert.equal(lines[20000], '{"cairn":"end"}');
  assert.deepEqual(JSON.parse(lines[12345]!), { path: 'f12345', n: 12345 });
});

test('batches small records into large writes', async () => {
  let writes = 0;
  const sink = new Writable({ write(_c, _e, cb) { writes++; cb(); } });
  const w = new NdjsonWriter(sink);
  for (let i = 0; i < 10000; i++) w.write({ i });
  await w.end();
  assert.ok(writes < 10, `${writes} writes for 10000 records`);
});
