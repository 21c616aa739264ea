import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatTime, formatTimeNs, parseTimeNs } from '../../lib/records/time';

test('formats nanoseconds exactly with 9 fractional digits', () => {
  assert.equal(formatTimeNs(1709287872123456789n), '2024-03-01T10:11:12.123456789Z');
  assert.equal(formatTimeNs(0n), '1970-01-01T00:00:00.000000000Z');
  assert.equal(formatTimeNs(-1n), '1969-12-31T23:59:59.999999999Z');
  assert.equal(formatTimeNs(4102444800000000001n), '2100-01-01T00:00:00.000000001Z');
  assert.equal(formatTimeNs(951782400000000000n), '2000-02-29T00:00:00.000000000Z');
});

test('times outside years 0000-9999 are clamped, never malformed, never fatal', () => {
  assert.equal(formatTimeNs(253402300800n * 1_000_000_000n), '9999-12-31T23:59:59.999999999Z');
  assert.equal(formatTimeNs(9_000_000_000_000n * 1_000_000_000n), '9999-12-31T23:59:59.999999999Z');
  assert.equal(formatTimeNs(-62167219201n * 1_000_000_000n), '0000-01-01T00:00:00.000000000Z');
  assert.equal(formatTimeNs(-62167219200n * 1_000_000_000n), '0000-01-01T00:00:00.000000000Z');
  assert.equal(formatTime(-1, 500_000_000), '1969-12-31T23:59:59.500000000Z');
});

test('agrees with Date on random instants from 1900 to 2200', () => {
  for (let i = 0; i < 20000; i++) {
    const ms = Math.floor(-2208988800000 + Math.random() * 9.5e12);
    const ns = BigInt(ms) * 1_000_000n + BigInt(Math.floor(Math.random() * 1e6));
    const secs = Math.floor(ms / 1000);
    const frac = ns - BigInt(secs) * 1_000_000_000n;
    const want = `${new Date(secs * 1000).toISOString().slice(0, 19)}.${frac.toString().padStart(9, '0')}Z`;
    assert.equal(formatTimeNs(ns), want);
  }
});

test('parses what it formats and rejects anything else', () => {
  assert.equal(parseTimeNs('2024-03-01T10:11:12.123456789Z'), 1709287872123456789n);
  for (const bad of ['2024-03-01T10:11:12Z', '2024-03-01T10:11:12.123Z', '2024-02-30T00:00:00.000000000Z', '2024-03-01 10:11:12.123456789Z', '2024-03-01T10:11:12.123456789+01:00']) {
    assert.equal(parseTimeNs(bad), undefined, bad);
  }
});
