import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { records, run, sh } from '../helpers/run';
import { withFat } from '../helpers/sync';

test('a FAT stick is seen as one: 2 s times, no permissions, owners or links, case-insensitive', (t) =>
  withFat(t, async (mnt) => {
    fs.mkdirSync(path.join(mnt, 'photos'));
    fs.writeFileSync(path.join(mnt, 'photos', 'a.jpg'), 'jpeg');
    sh(`touch -d '2024-03-01 10:11:13.7' ${mnt}/photos/a.jpg`);
    const r = await run('cairn-scan', [mnt]);
    assert.equal(r.code, 0, r.stderr);
    const [header, dir, file] = records(r.stdout);
    assert.deepEqual(header!.caps, {
      mtime_precision_ns: 2_000_000_000, perms: false, owners: false, symlinks: false, hardlinks: false,
      case_sensitive: false, unicode_normalizes: false, fs: 'fuse.fusefat',
    });
    assert.equal(dir!.path, 'photos');
    // FAT kept the even second below 13.7 s: what the 2 s precision in the header says.
    assert.deepEqual([file!.path, file!.mtime], ['photos/a.jpg', '2024-03-01T10:11:12.000000000Z']);
  }));
