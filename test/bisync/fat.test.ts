import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers/run';
import { setTime } from '../helpers/tree';
import { bisync, summary } from '../helpers/bisync';
import { bytesOf, snapshot, withFat } from '../helpers/sync';

/* Side B is a real FAT filesystem (fusefat on an image file): 2 s times, no modes, no owners, no symlinks. */

function mode(p: string): string {
  return (fs.statSync(p).mode & 0o7777).toString(8).padStart(4, '0');
}

/** Writes a file on fusefat, which refuses O_APPEND but takes a whole new content. */
function write(p: string, content: string | Buffer): void {
  fs.writeFileSync(p, content);
}

function laptop(): string {
  const home = path.join(tempDir('cairn-bisync-fat-'), 'home');
  fs.mkdirSync(path.join(home, 'bin'), { recursive: true });
  fs.mkdirSync(path.join(home, 'docs/old'), { recursive: true });
  write(path.join(home, 'bin/run.sh'), '#!/bin/sh\necho run\n');
  fs.chmodSync(path.join(home, 'bin/run.sh'), 0o755);
  write(path.join(home, 'docs/secret.txt'), 'only me\n');
  fs.chmodSync(path.join(home, 'docs/secret.txt'), 0o600);
  write(path.join(home, 'docs/old/photo.jpg'), bytesOf(7, 40_000));
  write(path.join(home, 'notes.txt'), 'notes\n');
  fs.symlinkSync('notes.txt', path.join(home, 'link'));
  // Odd seconds and fractions, which FAT cannot keep.
  setTime(path.join(home, 'bin/run.sh'), '2023-07-15 23:59:59.999999999');
  setTime(path.join(home, 'docs/secret.txt'), '2024-03-01 10:11:13.7');
  setTime(path.join(home, 'docs/old/photo.jpg'), '2021-01-01 00:00:01.000000001');
  setTime(path.join(home, 'notes.txt'), '2024-02-29 08:00:01.5');
  return home;
}

function contentOf(root: string): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  for (const [p, o] of snapshot(root)) if (o.type !== 'symlink') out.set(p, o.hash ?? o.type);
  return out;
}

test('laptop <-> FAT stick: a round trip keeps the laptop\'s modes, and a second run plans nothing', async (t) => {
  await withFat(t, (stick) => {
    const home = laptop();
    const state = path.join(path.dirname(home), 'state.ndjson');
    const first = bisync(home, stick, state);
    assert.deepEqual(first.codes, [0, 0, 0], first.stderr);
    assert.deepEqual(contentOf(stick), contentOf(home), 'the stick holds everything but the symlink');
    assert.equal(fs.existsSync(path.join(stick, 'link')), false);
    const again = bisync(home, stick, state);
    assert.deepEqual(again.codes, [0, 0, 0], again.stderr);
    assert.deepEqual(summary(again.results), [], 'FAT times (2 s) and made-up modes are no change');

    // On the other computer: the stick's copies are edited and a file is added.
    write(path.join(stick, 'bin/run.sh'), '#!/bin/sh\necho run faster\n');
    write(path.join(stick, 'docs/secret.txt'), 'only me, edited\n');
    write(path.join(stick, 'docs/new.txt'), 'from work\n');
    const back = bisync(home, stick, state);
    assert.deepEqual(back.codes, [0, 0, 0], back.stderr);
    assert.deepEqual(summary(back.results), ['copy a docs/new.txt done', 'update a bin/run.sh done', 'update a docs/secret.txt done']);
    assert.equal(fs.readFileSync(path.join(home, 'bin/run.sh'), 'utf8'), '#!/bin/sh\necho run faster\n');
    assert.equal(mode(path.join(home, 'bin/run.sh')), '0755', 'the exec bit survives the stick');
    assert.equal(mode(path.join(home, 'docs/secret.txt')), '0600', 'so does a private mode');
    assert.equal(fs.readlinkSync(path.join(home, 'link')), 'notes.txt', 'the symlink the stick cannot hold stays on the laptop');
    assert.deepEqual(contentOf(stick), contentOf(home));
    const quiet = bisync(home, stick, state);
    assert.deepEqual(summary(quiet.results), [], `nothing after the round trip: ${quiet.stderr}`);

    // The laptop deletes a directory; the stick follows.
    fs.rmSync(path.join(home, 'docs/old'), { recursive: true });
    const del = bisync(home, stick, state);
    assert.deepEqual(del.codes, [0, 0, 0], del.stderr);
    assert.deepEqual(summary(del.results), ['remove b docs/old/photo.jpg done', 'rmdir b docs/old done']);
    assert.deepEqual(contentOf(stick), contentOf(home));
  });
});

test('laptop <-> FAT stick: the same file edited on both is a conflict until --prefer keeps both versions', async (t) => {
  await withFat(t, (stick) => {
    const home = laptop();
    const state = path.join(path.dirname(home), 'state.ndjson');
    assert.deepEqual(bisync(home, stick, state).codes, [0, 0, 0]);
    write(path.join(home, 'notes.txt'), 'laptop version\n');
    setTime(path.join(home, 'notes.txt'), '2025-01-01 10:00:00');
    write(path.join(stick, 'notes.txt'), 'stick version, longer\n');
    setTime(path.join(stick, 'notes.txt'), '2025-01-02 10:00:00');
    for (let i = 0; i < 2; i++) {
      const r = bisync(home, stick, state);
      assert.deepEqual(r.codes, [0, 0, 1], 'apply exits 1: a conflict needs attention');
      assert.deepEqual(summary(r.results), ['conflict - notes.txt conflict'], 'reported again on every run');
      assert.equal(fs.readFileSync(path.join(home, 'notes.txt'), 'utf8'), 'laptop version\n');
      assert.equal(fs.readFileSync(path.join(stick, 'notes.txt'), 'utf8'), 'stick version, longer\n');
    }
    const r = bisync(home, stick, state, ['--prefer', 'newer']);
    assert.deepEqual(r.codes, [0, 0, 0], r.stderr);
    const kept = 'notes.conflict-a-20250101-100000.txt';
    assert.deepEqual(summary(r.results), [`copy a notes.txt done`, `copy b ${kept} done`, `move a ${kept} done`]);
    for (const side of [home, stick]) {
      assert.equal(fs.readFileSync(path.join(side, 'notes.txt'), 'utf8'), 'stick version, longer\n');
      assert.equal(fs.readFileSync(path.join(side, kept), 'utf8'), 'laptop version\n', 'the loser is kept on both sides');
    }
    assert.deepEqual(summary(bisync(home, stick, state).results), []);
  });
});
