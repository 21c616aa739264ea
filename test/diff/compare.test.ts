import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sameTime } from '../../lib/diff/compare';

const US = 1000;
const FAT = 2_000_000_000;
const HOUR_SHIFT = true;

test('times within the window, or in the same slot of it, are the same (fast path and BigInt path agree)', () => {
  // Same second: the fraction decides.
  assert.equal(sameTime('2024-01-01T00:00:00.123456789Z', '2024-01-01T00:00:00.123456000Z', US, false), true, 'truncated to the us');
  assert.equal(sameTime('2024-01-01T00:00:00.123456999Z', '2024-01-01T00:00:00.123457001Z', US, false), true, '2 ns apart, across a slot');
  assert.equal(sameTime('2024-01-01T00:00:00.123456000Z', '2024-01-01T00:00:00.123458000Z', US, false), false, '2 us apart');
  // Across a second boundary (the BigInt path).
  assert.equal(sameTime('2024-01-01T00:00:00.999999999Z', '2024-01-01T00:00:01.000000100Z', US, false), true);
  assert.equal(sameTime('2024-01-01T00:00:00.999990000Z', '2024-01-01T00:00:01.000000000Z', US, false), false);
  // FAT: 2 s, truncating.
  assert.equal(sameTime('2024-01-01T00:00:13.700000000Z', '2024-01-01T00:00:12.000000000Z', FAT, false), true);
  assert.equal(sameTime('2024-01-01T00:00:15.000000000Z', '2024-01-01T00:00:12.000000000Z', FAT, false), false);
});

test('--ignore-hour-shift: exactly one hour off, within the window, either way', () => {
  assert.equal(sameTime('2024-06-01T11:00:01.000000000Z', '2024-06-01T10:00:00.000000000Z', FAT, HOUR_SHIFT), true);
  assert.equal(sameTime('2024-06-01T09:00:00.000000000Z', '2024-06-01T10:00:00.000000000Z', FAT, HOUR_SHIFT), true);
  assert.equal(sameTime('2024-06-01T09:00:00.000000000Z', '2024-06-01T10:00:00.000000000Z', FAT, false), false);
  assert.equal(sameTime('2024-06-01T12:00:00.000000000Z', '2024-06-01T10:00:00.000000000Z', FAT, HOUR_SHIFT), false, 'two hours is a change');
});
