import assert from 'node:assert/strict';
import { execSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { BIN, isRoot, records, sh, tempDir } from '../helpers/run';
import { mirrorPlanned, q, rsyncDifferences } from '../helpers/sync';
import { makeSocket, setTime } from '../helpers/tree';

const RAW_NAME = Buffer.from([0x63, 0x61, 0x66, 0xe9]);

test('every kind of object is mirrored exactly: rsync finds nothing, sparse stays sparse, links stay links', () => {
  const base = tempDir();
  const src = path.join(base, 'src');
  const dst = path.join(base, 'dst');
  fs.mkdirSync(dst);
  fs.mkdirSync(src);
  const p = (...xs: string[]) => path.join(src, ...xs);
  fs.writeFileSync(p('a.txt'), 'hello');
  fs.mkdirSync(p('ro'));
  fs.writeFileSync(p('ro', 'inside'), 'x');
  fs.chmodSync(p('ro'), 0o555);
  fs.writeFileSync(p('exec'), '#!/bin/sh\n', { mode: 0o4755 });
  fs.chmodSync(p('exec'), 0o4755);
  fs.symlinkSync('a.txt', p('link'));
  fs.symlinkSync(Buffer.from([0x2e, 0x2f, 0xff]) as unknown as string, p('rawlink'));
  fs.writeFileSync(p('hard1'), 'linked');
  fs.linkSync(p('hard1'), p('hard2'));
  fs.linkSync(p('hard1'), p('ro-sibling-link'));
  execSync(`mkfifo ${q(p('fifo'))}`);
  makeSocket(p('sock'));
  fs.writeFileSync(Buffer.concat([Buffer.from(`${src}/`), RAW_NAME]), 'latin1');
  fs.writeFileSync(p('new\nline'), 'nl');
  execSync(`truncate -s 64M ${q(p('sparse'))} && printf data | dd of=${q(p('sparse'))} bs=1 seek=1000000 conv=notrunc status=none`);
  if (isRoot) {
    execSync(`mknod ${q(p('blk'))} b 7 200 && mknod ${q(p('chr'))} c 1 3`);
    fs.lchownSync(p('a.txt'), 1234, 5678);
    fs.lchownSync(p('link'), 4321, 8765);
  }
  setTime(p('link'), '2001-02-03 04:05:06.123456789');
  setTime(p('ro'), '2002-01-01 00:00:00');

  const r = mirrorPlanned(src, dst);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(rsyncDifferences(src, dst), '');
  assert.equal(fs.statSync(path.join(dst, 'sparse')).blocks * 512 < 1 << 20, true, 'sparse file kept sparse');
  assert.equal(fs.readFileSync(path.join(dst, 'sparse')).subarray(1_000_000, 1_000_004).toString(), 'data');
  const h = fs.statSync(path.join(dst, 'hard1'));
  assert.equal(h.nlink, 3);
  assert.equal(fs.statSync(path.join(dst, 'hard2')).ino, h.ino);
  assert.equal(fs.lstatSync(path.join(dst, 'sock')).isSocket(), true);
  assert.equal(fs.lstatSync(path.join(dst, 'fifo')).isFIFO(), true);
  assert.deepEqual(fs.readlinkSync(path.join(dst, 'rawlink'), { encoding: 'buffer' }), Buffer.from([0x2e, 0x2f, 0xff]));
  assert.equal(fs.readFileSync(Buffer.concat([Buffer.from(`${dst}/`), RAW_NAME])).toString(), 'latin1');
  assert.equal(fs.lstatSync(path.join(dst, 'link')).mtime.toISOString(), '2001-02-03T04:05:06.123Z');
  assert.equal(fs.statSync(path.join(dst, 'exec')).mode & 0o7777, 0o4755);
  if (isRoot) {
    assert.equal(fs.lstatSync(path.join(dst, 'link')).uid, 4321);
    assert.equal(fs.statSync(path.join(dst, 'chr')).rdev, fs.statSync(p('chr')).rdev);
  }
  const again = mirrorPlanned(src, dst);
  assert.deepEqual(again.actions, []);
  assert.equal(sh(`cairn-diff --check ${q(src)} ${q(dst)}`).stdout, '');
});

test('--verify hashes what was written; --fsync and --progress go along', () => {
  const base = tempDir();
  const src = path.join(base, 'src');
  const dst = path.join(base, 'dst');
  fs.mkdirSync(src);
  fs.mkdirSync(dst);
  for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(src, `f${i}`), Buffer.alloc(100_000, i));
  const r = sh(`set -o pipefail; cairn-diff ${q(src)} ${q(dst)} | cairn-plan --mirror | cairn-apply --verify --fsync --progress > ${q(path.join(base, 'res'))}`);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^cairn-apply: 21 files, 1\.9 MiB, /m);
  const res = records(fs.readFileSync(path.join(base, 'res'), 'utf8'));
  assert.equal(res.filter((x) => x.status === 'done').length, 21);
  assert.equal(rsyncDifferences(src, dst), '');
});

test('SIGINT stops between actions: exit 130, no end record, no temporary file; a rerun completes', async () => {
  const base = tempDir();
  const src = path.join(base, 'src');
  const dst = path.join(base, 'dst');
  fs.mkdirSync(src);
  fs.mkdirSync(dst);
  for (let i = 0; i < 3000; i++) fs.writeFileSync(path.join(src, `f${String(i).padStart(4, '0')}`), Buffer.alloc(20_000, i));
  const planFile = path.join(base, 'plan');
  assert.equal(sh(`cairn-diff ${q(src)} ${q(dst)} | cairn-plan --mirror > ${q(planFile)}`).code, 0);
  const child = spawn(path.join(BIN, 'cairn-apply'), [planFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  // Interrupt once it is under way.
  await new Promise<void>((resolve) => {
    const t = setInterval(() => {
      if (fs.readdirSync(dst).length > 100) {
        clearInterval(t);
        resolve();
      }
    }, 5);
  });
  child.kill('SIGINT');
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  assert.equal(code, 130);
  const lines = out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.notEqual(lines.at(-1)!.cairn, 'end');
  assert.ok(out.endsWith('\n'), 'whole lines only');
  assert.deepEqual(fs.readdirSync(dst).filter((n) => n.startsWith('.cairn-tmp.')), []);
  assert.ok(fs.readdirSync(dst).length < 3000, 'stopped before the end');
  const r = mirrorPlanned(src, dst);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(rsyncDifferences(src, dst), '');
});
