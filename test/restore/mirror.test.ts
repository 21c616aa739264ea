import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { records, tempDir } from '../helpers/run';
import { bash, q } from '../helpers/sync';

/*
 * cairn-restore --from: a mirror made by cairn-apply as the source, given
 * as its directory or as an entries stream of it (whose hashes are then
 * checked), with a selection; and what --from refuses.
 */

const TMP = tempDir('cairn-restore-mirror-');

function ok(script: string): string {
  const r = bash(script);
  assert.equal(r.code, 0, `${script}\n${r.stderr}`);
  return r.stdout;
}

function tree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const n of fs.readdirSync(path.join(root, rel)).sort()) {
      const r = rel === '' ? n : `${rel}/${n}`;
      const st = fs.lstatSync(path.join(root, r), { bigint: true });
      // Times to the microsecond: what cairn sets (libuv truncates finer ones).
      const t = `${st.mtimeNs / 1000n} ${(st.mode & 0o7777n).toString(8)}`;
      if (st.isDirectory()) {
        out[r] = `dir ${t}`;
        walk(r);
      } else if (st.isSymbolicLink()) out[r] = `link ${fs.readlinkSync(path.join(root, r))}`;
      else out[r] = `file ${fs.readFileSync(path.join(root, r), 'utf8')} ${t} ino-group ${st.nlink}`;
    }
  };
  walk('');
  return out;
}

function mirrorOf(label: string): { src: string; mirror: string } {
  const base = path.join(TMP, label);
  const src = path.join(base, 'src');
  const mirror = path.join(base, 'mirror');
  fs.mkdirSync(path.join(src, 'docs', 'deep'), { recursive: true });
  fs.mkdirSync(mirror, { recursive: true });
  fs.writeFileSync(path.join(src, 'docs', 'a.txt'), 'a\n');
  fs.writeFileSync(path.join(src, 'docs', 'deep', 'b.txt'), 'b\n');
  fs.chmodSync(path.join(src, 'docs', 'deep', 'b.txt'), 0o600);
  fs.writeFileSync(path.join(src, 'top.txt'), 'top\n');
  fs.linkSync(path.join(src, 'top.txt'), path.join(src, 'top-link.txt'));
  fs.symlinkSync('docs/a.txt', path.join(src, 'latest'));
  fs.utimesSync(path.join(src, 'docs', 'a.txt'), 1_600_000_000.25, 1_600_000_000.25);
  ok(`cairn-diff ${q(src)} ${q(mirror)} | cairn-plan --mirror | cairn-apply > /dev/null`);
  return { src, mirror };
}

test('--from a mirror directory: the tree comes back as the mirror holds it (times, modes, symlinks, hard links)', () => {
  const { src, mirror } = mirrorOf('dir');
  const out = path.join(TMP, 'dir', 'out');
  fs.mkdirSync(out);
  const r = bash(`cairn-restore -d ${q(out)} --from ${q(mirror)}`);
  assert.equal(r.code, 0, r.stderr);
  const recs = records(r.stdout).filter((x) => x.op === 'restore');
  assert.ok(recs.every((x) => x.status === 'done'), r.stdout);
  assert.deepEqual(tree(out), tree(src));
  assert.equal(fs.statSync(path.join(out, 'top.txt')).ino, fs.statSync(path.join(out, 'top-link.txt')).ino, 'hard links made again');
});

test('--from an entries stream with hashes: a selection restores its subtree; a file whose bytes differ from the stream fails', () => {
  const { mirror } = mirrorOf('stream');
  const scan = path.join(TMP, 'stream', 'mirror.ndjson');
  ok(`cairn-scan --hash sha256 ${q(mirror)} > ${q(scan)}`);
  const out = path.join(TMP, 'stream', 'out');
  fs.mkdirSync(out);
  const r = bash(`cairn-restore -d ${q(out)} --from ${q(scan)} docs`);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(records(r.stdout).filter((x) => x.op === 'restore').map((x) => [x.path, x.status]), [
    ['docs', 'done'],
    ['docs/a.txt', 'done'],
    ['docs/deep', 'done'],
    ['docs/deep/b.txt', 'done'],
  ]);
  assert.deepEqual(fs.readdirSync(out), ['docs']);
  // The mirror's file changes after the scan, same size: its hash no longer matches.
  fs.writeFileSync(path.join(mirror, 'top.txt'), 'TOP\n');
  const out2 = path.join(TMP, 'stream', 'out2');
  fs.mkdirSync(out2);
  const bad = bash(`cairn-restore -d ${q(out2)} --from ${q(scan)} top.txt`);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^cairn-restore: .*: top\.txt: does not verify: sha256:[0-9a-f]{64}, expected sha256:[0-9a-f]{64}\n$/);
  assert.equal(fs.existsSync(path.join(out2, 'top.txt')), false, 'nothing under the final name');
});

test('--from refuses --list and --as-of (a mirror has one state): exit 2, nothing written', () => {
  const { mirror } = mirrorOf('refuse');
  const out = path.join(TMP, 'refuse', 'out');
  fs.mkdirSync(out);
  for (const extra of ['--list', '--as-of 1']) {
    const r = bash(`cairn-restore -d ${q(out)} --from ${q(mirror)} ${extra}`);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^cairn-restore: --(list|as-of): only with a catalog/);
    assert.equal(r.stdout, '');
  }
  assert.deepEqual(fs.readdirSync(out), []);
});
