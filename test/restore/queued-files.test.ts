import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { records, run, smallTmpfs, tempDir } from '../helpers/run';
import { forgeTar, type ForgeMember } from '../helpers/tar-forge';

/*
 * cairn-restore makes small files from a tar a batch at a time in the
 * addon's thread (Restorer.fileBytes); CAIRN_NATIVE=0 makes them one by
 * one. Names that depend on an earlier member (the same name again, a file
 * then a directory or a file below it, a hard link to a file just read)
 * must come out exactly as one by one: same results, same tree.
 */

const members: ForgeMember[] = [
  ...Array.from({ length: 300 }, (_, i): ForgeMember => ({ name: `many/f${String(i).padStart(3, '0')}`, data: `file ${i}\n`.repeat(i % 7), mtime: 1_600_000_000 + i, mode: 0o640 })),
  { name: 'dup', data: 'first', mtime: 1_600_000_000 },
  { name: 'dup', data: 'second, longer', mtime: 1_600_000_500 },
  { name: 'x', data: 'a file named x', mtime: 1_600_000_000 },
  { name: 'x/y', data: 'below a file', mtime: 1_600_000_000 },
  { name: 'z', data: 'z is a file', mtime: 1_600_000_000 },
  { name: 'z', type: 'dir', mtime: 1_600_000_000 },
  { name: 'target', data: 'linked to', mtime: 1_600_000_000 },
  { name: 'link', type: 'hardlink', linkname: 'target' },
  { name: 'last', data: 'ok', mtime: 1_600_000_000 },
];

/** What a tree holds: every object's type, bytes or target, mode and time. */
function tree(root: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const walk = (rel: string) => {
    for (const n of fs.readdirSync(path.join(root, rel)).sort()) {
      const r = rel ? `${rel}/${n}` : n;
      const st = fs.lstatSync(path.join(root, r), { bigint: true });
      out[r] = [st.isDirectory() ? 'dir' : st.isFile() ? fs.readFileSync(path.join(root, r), 'latin1') : 'other', Number(st.mode & 0o7777n), st.isDirectory() ? 0 : st.mtimeNs.toString(), Number(st.nlink)];
      if (st.isDirectory()) walk(r);
    }
  };
  walk('');
  return out;
}

test('files made a batch at a time come out as one by one: results in archive order, the same tree', async () => {
  const base = tempDir('cairn-restore-queued-');
  const tar = path.join(base, 'in.tar');
  fs.writeFileSync(tar, forgeTar(members));
  const got: { code: number | null; results: unknown[]; stderr: string; tree: Record<string, unknown> }[] = [];
  for (const native of ['1', '0']) {
    const dest = path.join(base, `out${native}`);
    fs.mkdirSync(dest);
    const r = await run('cairn-restore', ['-d', dest, '--tar', tar], { env: { ...process.env, CAIRN_NATIVE: native } });
    got.push({ code: r.code, results: records(r.stdout).filter((x) => x.op !== undefined), stderr: r.stderr.replaceAll(dest, 'DEST'), tree: tree(dest) });
  }
  assert.deepEqual(got[0], got[1]);
  const [one] = got;
  assert.equal(one!.code, 1, one!.stderr);
  const status = Object.fromEntries((one!.results as { path: string; type: string; status: string }[]).filter((x) => !x.path.startsWith('many/')).map((x) => [`${x.path} ${x.type}`, x.status]));
  assert.deepEqual(status, { 'dup file': 'skipped', 'x file': 'done', 'x/y file': 'failed', 'z file': 'done', 'z dir': 'skipped', 'target file': 'done', 'link hardlink': 'done', 'last file': 'done' });
  assert.equal(one!.tree['dup']![0 as never], 'first');
  assert.equal((one!.tree['link'] as unknown[])[3], 2, 'the hard link is a link');
  assert.equal((one!.results as { path: string }[]).filter((x) => x.path.startsWith('many/')).length, 300);
});

test('a disk that fills up while files are queued: the run stops at the file that did not fit (exit 3, its results reported), as one by one', { skip: process.getuid?.() !== 0 && 'needs root to mount a small tmpfs' }, async () => {
  const base = tempDir('cairn-restore-queued-');
  const tar = path.join(base, 'in.tar');
  // 40 files of 64 KiB into 1 MiB: some land, then no space; a directory and more files after.
  const big: ForgeMember[] = Array.from({ length: 40 }, (_, i) => ({ name: `f${String(i).padStart(2, '0')}`, data: Buffer.alloc(64 << 10, i), mtime: 1_600_000_000 }));
  fs.writeFileSync(tar, forgeTar([...big, { name: 'later', type: 'dir', mtime: 1_600_000_000 }, { name: 'later/x', data: 'x' }]));
  const got: unknown[] = [];
  for (const native of ['1', '0']) {
    const { dir: dest, unmount } = smallTmpfs('1m');
    try {
      const r = await run('cairn-restore', ['-d', dest, '--tar', tar], { env: { ...process.env, CAIRN_NATIVE: native } });
      const results = records(r.stdout).filter((x) => x.op !== undefined) as { path: string; status: string }[];
      // A directory after the failing file may have been made while the files waited (see cairn-restore(1), Writes); no file after it.
      const names = fs.readdirSync(dest).sort().filter((n) => n !== 'later');
      assert.deepEqual(names.filter((n) => n.startsWith('.cairn-tmp')), [], 'no temporary file left');
      // Every file there is whole, and is one reported done, in archive order, up to the one that did not fit.
      for (const n of names) assert.equal(fs.statSync(path.join(dest, n)).size, 64 << 10, n);
      assert.deepEqual(names, results.map((x) => x.path));
      assert.ok(results.every((x) => x.status === 'done'));
      assert.ok(names.length > 0 && names.length < 40, `${names.length} files`);
      assert.ok(!fs.existsSync(path.join(dest, 'later', 'x')), 'no file after the failure');
      got.push({ code: r.code, done: results.length, stderr: r.stderr });
    } finally {
      unmount();
    }
  }
  assert.deepEqual(got[0], got[1]);
});
