import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { records, run, sh, tempDir } from '../helpers/run';

/** Mounts a fresh FAT16 image through fusefat, or says why that cannot be done here. */
function mountFat(): { dir: string; unmount: () => void } | string {
  const work = tempDir();
  const img = path.join(work, 'fat.img');
  const dir = path.join(work, 'mnt');
  fs.mkdirSync(dir);
  const made = sh(`command -v mkfs.vfat >/dev/null && command -v fusefat >/dev/null && truncate -s 16M ${img} && mkfs.vfat ${img} >/dev/null && fusefat -o rw+ ${img} ${dir} >/dev/null`);
  if (made.code !== 0) return `no FAT here (mkfs.vfat, fusefat and /dev/fuse are needed): ${made.stderr.trim() || `exit ${made.code}`}`;
  // fusefat answers before the kernel shows the mount.
  for (let i = 0; i < 50 && !fs.readFileSync('/proc/mounts', 'utf8').includes(` ${dir} `); i++) sh('sleep 0.1');
  if (!fs.readFileSync('/proc/mounts', 'utf8').includes(` ${dir} `)) return 'fusefat did not mount';
  return { dir, unmount: () => sh(`fusermount -u ${dir} || umount ${dir}`) };
}

test('a FAT stick is seen as one: 2 s times, no permissions, owners or links, case-insensitive', async (t) => {
  const fat = mountFat();
  if (typeof fat === 'string') {
    t.skip(fat);
    return;
  }
  try {
    fs.mkdirSync(path.join(fat.dir, 'photos'));
    fs.writeFileSync(path.join(fat.dir, 'photos', 'a.jpg'), 'jpeg');
    sh(`touch -d '2024-03-01 10:11:13.7' ${fat.dir}/photos/a.jpg`);
    const r = await run('cairn-scan', [fat.dir]);
    assert.equal(r.code, 0, r.stderr);
    const [header, dir, file] = records(r.stdout);
    assert.deepEqual(header!.caps, {
      mtime_precision_ns: 2_000_000_000, perms: false, owners: false, symlinks: false, hardlinks: false,
      case_sensitive: false, unicode_normalizes: false, fs: 'fuse.fusefat',
    });
    assert.equal(dir!.path, 'photos');
    // FAT kept the even second below 13.7 s: what the 2 s precision in the header says.
    assert.deepEqual([file!.path, file!.mtime], ['photos/a.jpg', '2024-03-01T10:11:12.000000000Z']);
  } finally {
    fat.unmount();
  }
});
