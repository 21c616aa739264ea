import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { fileReader } from '../../lib/tree/local/native';
import { LstatBatch } from '../../lib/tree/local/path-stats';
import { ReadBatch } from '../../lib/tree/local/read-files';
import { statOf } from '../../lib/tree/local/stat';
import { tempDir } from '../helpers/run';

/** Files of every case the batch reader meets: contents, a short file, no file, a link, a fifo, a directory, a raw name. */
function cases(): { dir: Buffer; names: Buffer[]; sizes: number[]; positions: number[] } {
  const root = tempDir('cairn-read-files-');
  const dir = Buffer.from(`${root}/`);
  fs.writeFileSync(path.join(root, 'a'), 'hello, world');
  fs.writeFileSync(path.join(root, 'big'), Buffer.alloc(200_000, 7));
  fs.writeFileSync(path.join(root, 'short'), 'abc');
  fs.writeFileSync(path.join(root, 'empty'), '');
  fs.symlinkSync('a', path.join(root, 'link'));
  execFileSync('mkfifo', [path.join(root, 'fifo')]);
  fs.mkdirSync(path.join(root, 'sub'));
  fs.writeFileSync(Buffer.concat([dir, Buffer.from([0xff, 0x41])]), 'raw name');
  const names = ['a', 'big', 'short', 'empty', 'gone', 'link', 'fifo', 'sub', 'a'].map((n) => Buffer.from(n));
  names.push(Buffer.from([0xff, 0x41]));
  return { dir, names, sizes: [12, 200_000, 10, 0, 5, 12, 4, 4, 5, 8], positions: [0, 0, 0, 0, 0, 0, 0, 0, 7, 0] };
}

type Outcome = { err: number; got: number; mode: number; size: number; mtime: [number, number]; bytes: string };

function readAll(c: ReturnType<typeof cases>, batch: ReadBatch, how: 'run' | 'start'): Outcome[] {
  const into = Buffer.alloc(300_000, 0xee);
  let at = 0;
  const offsets: number[] = [];
  c.names.forEach((n, k) => {
    offsets.push(at);
    batch.add(c.dir, n, at, c.sizes[k]!, c.positions[k]!);
    at += c.sizes[k]! + 3;
  });
  if (how === 'run') batch.run(into);
  else {
    batch.start(into);
    batch.finish();
  }
  const out = c.names.map((_, k) => ({
    err: batch.err(k),
    got: batch.got(k),
    mode: batch.mode(k),
    size: batch.size(k),
    mtime: [batch.mtimeSec(k), batch.mtimeNsec(k)] as [number, number],
    bytes: into.subarray(offsets[k], offsets[k]! + batch.got(k)).toString('latin1'),
  }));
  batch.clear();
  return out;
}

test('readFiles: the addon and Node calls give the same bytes, errors and stats, in the thread or not', () => {
  assert.ok(fileReader !== undefined, 'the addon did not load: make did not build native/');
  const c = cases();
  const byNode = readAll(c, new ReadBatch(16, false), 'run');
  assert.deepEqual(readAll(c, new ReadBatch(16, true), 'run'), byNode);
  assert.deepEqual(readAll(c, new ReadBatch(16, true), 'start'), byNode);
  assert.deepEqual(readAll(c, new ReadBatch(16, false), 'start'), byNode);
  const [a, big, short, empty, gone, link, fifo, sub, at7, raw] = byNode;
  assert.deepEqual([a!.err, a!.got, a!.bytes, a!.size], [0, 12, 'hello, world', 12]);
  assert.equal(a!.mode & 0o170000, 0o100000);
  assert.deepEqual([big!.got, big!.bytes === '\x07'.repeat(200_000)], [200_000, true]);
  assert.deepEqual([short!.err, short!.got, short!.bytes, short!.size], [0, 3, 'abc', 3]);
  assert.deepEqual([empty!.err, empty!.got], [0, 0]);
  assert.equal(gone!.err, 2); // ENOENT
  assert.equal(link!.err, 40); // ELOOP: never followed
  // A fifo is opened without waiting for a writer, and refuses a positioned read.
  assert.deepEqual([fifo!.err, fifo!.got], [29, 0]); // ESPIPE
  assert.equal(sub!.err, 21); // EISDIR
  assert.deepEqual([at7!.got, at7!.bytes], [5, 'world']);
  assert.deepEqual([raw!.err, raw!.bytes], [0, 'raw name']);
});

test('readFiles: many batches in flight finish in any order with their own results', () => {
  const root = tempDir('cairn-read-files-');
  const dir = Buffer.from(`${root}/`);
  for (let i = 0; i < 40; i++) fs.writeFileSync(path.join(root, `f${i}`), `file ${i} `.repeat(i));
  const into = Buffer.alloc(1 << 20);
  const batches = Array.from({ length: 8 }, () => new ReadBatch(5));
  const slot = (i: number) => i * 1000;
  batches.forEach((b, n) => {
    for (let i = n * 5; i < n * 5 + 5; i++) b.add(dir, Buffer.from(`f${i}`), slot(i), 900, 0);
    b.start(into);
  });
  for (const n of [3, 0, 7, 1, 2, 6, 5, 4]) {
    const b = batches[n]!;
    b.finish();
    for (let k = 0; k < 5; k++) {
      const i = n * 5 + k;
      assert.equal(b.err(k), 0);
      assert.equal(into.subarray(slot(i), slot(i) + b.got(k)).toString(), `file ${i} `.repeat(i));
    }
  }
});

test('readFiles: arguments that would write outside the buffer are refused, nothing read', () => {
  const f = fileReader!;
  const paths = Buffer.from('/etc/hostname\0');
  const ends = new Uint32Array([paths.length]);
  const result = new Float64Array(6);
  const into = Buffer.alloc(16);
  assert.throws(() => f.readFiles(paths, ends, 1, new Float64Array([10, 10, 0]), into, result), /a slot outside into/);
  assert.throws(() => f.readFiles(paths, ends, 1, new Float64Array([-1, 4, 0]), into, result), /a slot outside into/);
  assert.throws(() => f.readFiles(paths, new Uint32Array([3]), 1, new Float64Array([0, 4, 0]), into, result), /NUL-terminated/);
  assert.throws(() => f.readFiles(paths, ends, 2, new Float64Array([0, 4, 0]), into, result), /count beyond the arrays/);
  assert.throws(() => f.readFiles(paths, ends, 1, new Float64Array([0, 4, 0]), into, new Float64Array(2)), /result must be/);
  const h = f.openReader();
  assert.throws(() => f.submit(h, 1, 0, paths, ends, 1, new Float64Array([10, 10, 0]), into), /a slot outside into/);
  assert.throws(() => f.finish(h, 1, result), /no such batch/);
});

/** What Node's lstat says of a path: its Stat, or the error it throws. */
function nodeLstat(p: Buffer): unknown {
  try {
    return statOf(p, false);
  } catch (err) {
    return err;
  }
}

test('LstatBatch: whole paths in one call, as Node lstat sees them, errors included', () => {
  const root = tempDir('cairn-path-stats-');
  fs.writeFileSync(path.join(root, 'f'), 'x');
  fs.symlinkSync('f', path.join(root, 'l'));
  const paths = ['f', 'l', 'missing', 'f/under'].map((n) => Buffer.from(path.join(root, n)));
  const batch = new LstatBatch();
  batch.start(paths);
  const got = batch.finish();
  assert.deepEqual(got[0], statOf(paths[0]!, false));
  assert.deepEqual(got[1], statOf(paths[1]!, false));
  assert.equal((got[2] as NodeJS.ErrnoException).code, 'ENOENT');
  assert.equal((got[3] as NodeJS.ErrnoException).code, 'ENOTDIR');
});

test('LstatBatch: in the reader thread, what Node lstat gives; two batches at once, each its own; an empty one', () => {
  const root = tempDir('cairn-path-stats-');
  fs.writeFileSync(path.join(root, 'f'), 'x');
  fs.mkdirSync(path.join(root, 'd'));
  fs.symlinkSync('f', path.join(root, 'l'));
  const one = ['f', 'l', 'missing', 'f/under'].map((n) => Buffer.from(path.join(root, n)));
  const two = ['d', 'f', 'd/nothing'].map((n) => Buffer.from(path.join(root, n)));
  const a = new LstatBatch();
  const b = new LstatBatch();
  const none = new LstatBatch();
  a.start(one);
  b.start(two);
  none.start([]);
  const gotB = b.finish();
  const gotA = a.finish();
  assert.deepEqual(none.finish(), []);
  const same = (got: unknown[], want: unknown[]): void => {
    assert.equal(got.length, want.length);
    got.forEach((g, k) => {
      if (want[k] instanceof Error) assert.equal((g as NodeJS.ErrnoException).message, (want[k] as Error).message);
      else assert.deepEqual(g, want[k]);
    });
  };
  same(gotA, one.map(nodeLstat));
  same(gotB, two.map(nodeLstat));
  assert.equal((gotA[2] as NodeJS.ErrnoException).code, 'ENOENT');
});
