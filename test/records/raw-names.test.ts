import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isValidUtf8, readableName } from '../../lib/records/raw-names';

test('valid UTF-8 is left as it is', () => {
  const b = Buffer.from('déjà vu \u{1F600}');
  assert.ok(isValidUtf8(b));
  assert.equal(readableName(b), 'déjà vu \u{1F600}');
});

test('bytes outside valid UTF-8 become \\xNN, valid runs around them stay', () => {
  assert.equal(readableName(Buffer.from([0x63, 0x61, 0x66, 0xe9])), 'caf\\xe9');
  assert.equal(readableName(Buffer.from([0xff, 0xc3, 0xa9, 0x80])), '\\xffé\\x80');
  // overlong encoding of '/', and a UTF-16 surrogate encoded in UTF-8
  assert.equal(readableName(Buffer.from([0xc0, 0xaf])), '\\xc0\\xaf');
  assert.equal(readableName(Buffer.from([0xed, 0xa0, 0x80])), '\\xed\\xa0\\x80');
  assert.ok(!isValidUtf8(Buffer.from([0xed, 0xa0, 0x80])));
});
