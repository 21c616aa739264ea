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

test('lines given as bytes keep their place among lines given as text, though the caller reuses its buffer', async () => {
  const got: Buffer[] = [];
  const sink = new Writable({ write(c: Buffer, _e, cb) { got.push(Buffer.from(c)); cb(); } });
  const w = new NdjsonWriter(sink);
  const want: string[] = [];
  const scratch = Buffer.alloc(1 << 18);
  for (let i = 0; i < 5000; i++) {
    const kind = i % 4;
    if (kind === 0) (w.write({ i }), want.push(`{"i":${i}}\n`));
    else if (kind === 1) (w.writeText(`t ${i} é\n`), want.push(`t ${i} é\n`));
    else {
      // A run of byte lines, small or larger than a write, in a buffer the caller overwrites next time.
      const text = `b ${i} 日本 ${'x'.repeat(kind === 3 ? 70000 : 3)}\n`;
      const n = scratch.write(text);
      w.writeBytes(scratch.subarray(0, n));
      scratch.fill(0x3f, 0, n);
      want.push(text);
    }
  }
  await w.end();
  want.push('{"cairn":"end"}\n');
  assert.equal(Buffer.concat(got).toString(), want.join(''));
  for (const c of got) assert.equal(c[c.length - 1], 0x0a, 'a write ended inside a line');
});
