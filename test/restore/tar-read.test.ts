import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TarReader, type ByteSource } from '../../lib/restore/tar-read';

/** A ustar header of a small file, its checksum summed as unsigned bytes or (old writers) as signed ones. */
function header(name: Buffer, size: number, signed = false): Buffer {
  const h = Buffer.alloc(512);
  name.copy(h, 0);
  h.write('0000644\0', 100, 'latin1');
  h.write('0000000\0', 108, 'latin1');
  h.write('0000000\0', 116, 'latin1');
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  h.write('14000000000\0', 136, 'latin1');
  h.write('0', 156, 'latin1');
  h.write('ustar\u000000', 257, 'latin1');
  // Bytes in the padding after the prefix field count too: every byte of the block is summed.
  h[511] = 0x41;
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const c of h) sum += signed && c > 127 ? c - 256 : c;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}

function archive(...members: [Buffer, string][]): Buffer {
  const parts: Buffer[] = [];
  for (const [h, content] of members) {
    parts.push(h, Buffer.from(content), Buffer.alloc((512 - (content.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** The archive in chunks of `size` bytes, each at an odd offset of its memory when `odd` (headers not 4-byte aligned). */
function source(bytes: Buffer, size: number, odd: boolean): ByteSource {
  let at = 0;
  return {
    async next() {
      if (at >= bytes.length) return undefined;
      const chunk = bytes.subarray(at, at + size);
      at += size;
      return odd ? Buffer.concat([Buffer.from([0]), chunk]).subarray(1) : Buffer.from(chunk);
    },
  };
}

async function names(bytes: Buffer, size: number, odd: boolean): Promise<string[]> {
  const r = new TarReader(source(bytes, size, odd));
  const out: string[] = [];
  for (let m = await r.next(); m !== undefined; m = await r.next()) out.push(m.name.toString('latin1'));
  return out;
}

test('header checksums: unsigned and signed sums are taken, aligned or not; a wrong one stops the archive', async () => {
  const high = Buffer.from('caf\xe9-\xff', 'latin1');
  const good = archive([header(Buffer.from('a.txt'), 2), 'hi'], [header(high, 3, true), 'old'], [header(high, 1), 'x']);
  for (const [size, odd] of [[1 << 20, false], [1 << 20, true], [512, true], [700, false]] as const) {
    assert.deepEqual(await names(good, size, odd), ['a.txt', high.toString('latin1'), high.toString('latin1')], `chunks of ${size}, odd: ${odd}`);
  }
  // One bit off in a header (here: its name), or a checksum off by one.
  const flipped = Buffer.from(good);
  flipped[1024 + 1] ^= 0x01;
  const plusOne = archive([header(Buffer.from('a.txt'), 2), 'hi']);
  plusOne[148 + 5] = plusOne[148 + 5] === 0x30 ? 0x31 : 0x30;
  for (const bad of [flipped, plusOne]) {
    for (const odd of [false, true]) {
      await assert.rejects(names(bad, 1 << 20, odd), (err: Error) => /^not a tar header at offset \d+ \(checksum\)$/.test(err.message));
    }
  }
});

test('contentView: a member whose content and padding are buffered is a view of them; else nothing is taken and content() reads it', async () => {
  const bytes = archive([header(Buffer.from('a'), 5), 'hello'], [header(Buffer.from('b'), 700), 'x'.repeat(700)], [header(Buffer.from('c'), 3), 'end']);
  for (const size of [1 << 20, 512, 1100, 1536]) {
    const r = new TarReader(source(bytes, size, false));
    const got: string[] = [];
    let views = 0;
    for (let m = await r.next(); m !== undefined; m = await r.next()) {
      const v = r.contentView();
      if (v !== undefined) {
        views++;
        got.push(`${m.name.toString('latin1')}=${v.toString('latin1')}`);
        continue;
      }
      let text = '';
      await r.content((c) => (text += c.toString('latin1')));
      got.push(`${m.name.toString('latin1')}=${text}`);
    }
    assert.deepEqual(got, ['a=hello', `b=${'x'.repeat(700)}`, 'c=end'], `chunks of ${size}`);
    if (size === 1 << 20) assert.equal(views, 3);
    if (size === 512) assert.equal(views, 0, 'a header per chunk: no content is ever there with it');
  }
});
