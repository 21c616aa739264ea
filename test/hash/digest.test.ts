import assert from 'node:assert/strict';
import { algOfHash, hexOf, newDigest, unavailable } from '../../lib/hash/digest';
import { HASH_ALGS } from '../../lib/records/types';
import { testNeeding } from '../helpers/run';
import { bytesOf, hashOf } from '../helpers/sync';

/** Checked against b3sum(1): skipped, saying so, where it is missing. */
const test = testNeeding('b3sum');

// Sizes around BLAKE3's 64-byte blocks and 1 KiB chunks, and SHA's 64-byte blocks.
const SIZES = [0, 1, 63, 64, 65, 1023, 1024, 1025, 2048, 4097, 100_000, (1 << 20) + 1];

test('every algorithm, whole and in pieces, gives what OpenSSL or b3sum gives', () => {
  for (const alg of HASH_ALGS) {
    assert.equal(unavailable(alg), undefined, `${alg} is available here`);
    for (const size of SIZES) {
      const data = bytesOf(size, size);
      const want = hashOf(alg, data);
      assert.equal(hexOf(alg, data), want, `${alg} of ${size} bytes, at once`);
      const d = newDigest(alg);
      // Uneven pieces: 1, 2, 3, ... bytes, then the rest.
      let pos = 0;
      for (let n = 1; pos < data.length; n++) {
        d.update(data.subarray(pos, pos + n));
        pos += n;
      }
      assert.equal(d.digest('hex'), want, `${alg} of ${size} bytes, in pieces`);
    }
  }
});

test('blake3 hashers come back from the pool clean: interleaved digests and reuse give the same as one at a time', () => {
  const a = bytesOf(1, 5000);
  const b = bytesOf(2, 3000);
  const wantA = hashOf('blake3', a);
  const wantB = hashOf('blake3', b);
  for (let round = 0; round < 3; round++) {
    const da = newDigest('blake3');
    const db = newDigest('blake3');
    da.update(a.subarray(0, 100));
    db.update(b.subarray(0, 2000));
    da.update(a.subarray(100));
    db.update(b.subarray(2000));
    assert.equal(db.digest('hex'), wantB, `round ${round}: b`);
    // The hasher b handed back is taken by the next, half-way through a.
    assert.equal(hexOf('blake3', b), wantB);
    assert.equal(da.digest('hex'), wantA, `round ${round}: a`);
  }
  const d = newDigest('blake3');
  d.digest('hex');
  assert.throws(() => d.update(a), TypeError, 'a digest is not used after it gave its value (its hasher is someone else\'s by then)');
});

test('algOfHash', () => {
  assert.equal(algOfHash(`blake3:${'0'.repeat(64)}`), 'blake3');
  assert.equal(algOfHash(`md5:${'0'.repeat(32)}`), 'md5');
});
