import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../lib/cli/errors';
import { capsForFsType, fsTypeOf, overrideCaps } from '../../lib/tree/local/caps';

test('FAT keeps 2 s, no permissions, no owners, no links, case-insensitive', () => {
  assert.deepEqual(capsForFsType('vfat'), {
    mtime_precision_ns: 2_000_000_000, perms: false, owners: false, symlinks: false, hardlinks: false,
    case_sensitive: false, unicode_normalizes: false, fs: 'vfat',
  });
  assert.equal(capsForFsType('ext4').mtime_precision_ns, 1);
  assert.equal(capsForFsType('something-new').perms, true);
});

test('the filesystem of / is found in mountinfo', () => {
  assert.notEqual(fsTypeOf('/'), 'unknown');
  assert.equal(fsTypeOf('/proc/self'), 'proc');
});

test('--caps overrides take durations and booleans, and refuse the unknown', () => {
  const c = overrideCaps(capsForFsType('ext4'), 'mtime_precision_ns=2s,perms=false,case_sensitive=false');
  assert.equal(c.mtime_precision_ns, 2_000_000_000);
  assert.equal(c.perms, false);
  assert.equal(c.case_sensitive, false);
  assert.equal(overrideCaps(c, 'mtime_precision_ns=100').mtime_precision_ns, 100);
  assert.throws(() => overrideCaps(c, 'perms=maybe'), UsageError);
  assert.throws(() => overrideCaps(c, 'colour=true'), UsageError);
  assert.throws(() => overrideCaps(c, 'mtime_precision_ns=0'), UsageError);
});
