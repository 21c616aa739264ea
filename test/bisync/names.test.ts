import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers/run';
import { bisync, newPair, summary } from '../helpers/bisync';
import { withFat } from '../helpers/sync';

/* Names a side folds together: case on FAT, Unicode normalization on a side that normalizes. */

function home(): { home: string; state: string } {
  const dir = tempDir('cairn-bisync-names-');
  const h = path.join(dir, 'home');
  fs.mkdirSync(path.join(h, 'docs'), { recursive: true });
  fs.writeFileSync(path.join(h, 'docs/a.txt'), 'a\n');
  fs.writeFileSync(path.join(h, 'docs/other.txt'), 'other\n');
  return { home: h, state: path.join(dir, 'state.ndjson') };
}

test('FAT side: README and readme from the laptop are conflicts, never an overwrite, on every run', async (t) => {
  await withFat(t, (stick) => {
    const { home: h, state } = home();
    assert.deepEqual(bisync(h, stick, state).codes, [0, 0, 0]);
    fs.writeFileSync(path.join(h, 'docs/README'), 'upper\n');
    fs.writeFileSync(path.join(h, 'docs/readme'), 'lower\n');
    for (let i = 0; i < 2; i++) {
      const r = bisync(h, stick, state);
      assert.deepEqual(r.codes, [0, 0, 1], r.stderr);
      assert.deepEqual(summary(r.results), ['conflict - docs/README conflict', 'conflict - docs/readme conflict']);
      assert.deepEqual(
        r.results.map((x) => x.why),
        ['differs only in case from "readme": side b cannot hold both', 'differs only in case from "README": side b cannot hold both'],
      );
      assert.deepEqual(fs.readdirSync(path.join(stick, 'docs')).sort(), ['a.txt', 'other.txt']);
    }
    // --prefer cannot choose between two names: still conflicts, the stick untouched.
    const p = bisync(h, stick, state, ['--prefer', 'newer']);
    assert.deepEqual(p.codes, [0, 0, 1], p.stderr);
    assert.deepEqual(summary(p.results), ['conflict - docs/README conflict', 'conflict - docs/readme conflict']);
    assert.deepEqual(fs.readdirSync(path.join(stick, 'docs')).sort(), ['a.txt', 'other.txt']);
    // Settled by hand on the laptop: one of them renamed.
    fs.renameSync(path.join(h, 'docs/readme'), path.join(h, 'docs/readme-2.txt'));
    const r = bisync(h, stick, state);
    assert.deepEqual(r.codes, [0, 0, 0], r.stderr);
    assert.deepEqual(summary(r.results), ['copy b docs/README done', 'copy b docs/readme-2.txt done']);
    assert.equal(fs.readFileSync(path.join(stick, 'docs/README'), 'utf8'), 'upper\n');
  });
});

test('FAT side: a change of case is a rename, both ways, and nothing is copied', async (t) => {
  await withFat(t, (stick) => {
    const { home: h, state } = home();
    assert.deepEqual(bisync(h, stick, state).codes, [0, 0, 0]);
    fs.renameSync(path.join(h, 'docs/a.txt'), path.join(h, 'docs/A.txt'));
    let r = bisync(h, stick, state);
    assert.deepEqual(r.codes, [0, 0, 0], r.stderr);
    assert.deepEqual(summary(r.results), ['move b docs/A.txt done']);
    assert.deepEqual(fs.readdirSync(path.join(stick, 'docs')).sort(), ['A.txt', 'other.txt']);
    assert.equal(fs.readFileSync(path.join(stick, 'docs/A.txt'), 'utf8'), 'a\n');
    assert.deepEqual(summary(bisync(h, stick, state).results), [], 'settled');

    // Renamed on the stick, with a new extension case: the laptop follows.
    fs.renameSync(path.join(stick, 'docs/other.txt'), path.join(stick, 'docs/Other.TXT'));
    r = bisync(h, stick, state);
    assert.deepEqual(r.codes, [0, 0, 0], r.stderr);
    assert.deepEqual(summary(r.results).filter((l) => !l.startsWith('meta')), ['move a docs/Other.TXT done']);
    assert.deepEqual(fs.readdirSync(path.join(h, 'docs')).sort(), ['A.txt', 'Other.TXT']);
    assert.deepEqual(summary(bisync(h, stick, state).results), [], 'settled');
  });
});

const NFD = 'cafe\u0301.txt';
const NFC = 'caf\u00e9.txt';

test('a side that normalizes names: the NFD and NFC spellings are one file; --normalization off keeps them apart', () => {
  const { dir, a, b } = newPair('cairn-bisync-nfc-');
  fs.writeFileSync(path.join(a, NFD), 'same\n');
  fs.writeFileSync(path.join(b, NFC), 'same\n');
  const state = path.join(dir, 'state.ndjson');
  const r = bisync(a, b, state, [], ['--caps-b', 'unicode_normalizes=true']);
  assert.deepEqual(r.codes, [0, 0, 0], r.stderr);
  // Side b (which normalizes) takes side a's spelling: one rename, no copy.
  assert.deepEqual(summary(r.results), [`move b ${NFD} done`]);
  assert.deepEqual(fs.readdirSync(b), [NFD]);
  assert.deepEqual(summary(bisync(a, b, state, [], ['--caps-b', 'unicode_normalizes=true']).results), []);

  const off = path.join(dir, 'off.ndjson');
  fs.renameSync(path.join(b, NFD), path.join(b, NFC));
  const o = bisync(a, b, off, [], ['--caps-b', 'unicode_normalizes=true', '--normalization', 'off']);
  assert.deepEqual(o.codes, [0, 0, 0], o.stderr);
  assert.deepEqual(summary(o.results), [`copy a ${NFC} done`, `copy b ${NFD} done`]);
});

test('--prefer: a conflict copy whose name is taken (a loser of the same second) gets the first free -2, -3 on both sides', () => {
  const { a, b, state } = newPair('cairn-bisync-free-');
  const put = (p: string, text: string, time: string) => {
    fs.writeFileSync(p, text);
    fs.utimesSync(p, new Date(time), new Date(time));
  };
  put(path.join(a, 'x.txt'), 'base\n', '2024-01-01T09:00:00Z');
  assert.deepEqual(bisync(a, b, state).codes, [0, 0, 0]);
  const kept = 'x.conflict-a-20240101-100000';
  for (const [n, name] of [[1, `${kept}.txt`], [2, `${kept}-2.txt`], [3, `${kept}-3.txt`]] as const) {
    put(path.join(a, 'x.txt'), `a${n}\n`, `2024-01-01T10:00:00.${n}Z`);
    put(path.join(b, 'x.txt'), `b${n}\n`, `2024-01-01T10:00:0${n + 4}Z`);
    const r = bisync(a, b, state, ['--prefer', 'newer']);
    assert.deepEqual(r.codes, [0, 0, 0], r.stderr);
    assert.deepEqual(summary(r.results), [`copy a x.txt done`, `copy b ${name} done`, `move a ${name} done`]);
    for (const side of [a, b]) {
      assert.equal(fs.readFileSync(path.join(side, name), 'utf8'), `a${n}\n`);
      assert.equal(fs.readFileSync(path.join(side, 'x.txt'), 'utf8'), `b${n}\n`);
    }
  }
  assert.deepEqual(summary(bisync(a, b, state).results), []);
});

test('a change of case on one side and a content edit on the other: the edit is kept under the new name', () => {
  const { a, b, state } = newPair('cairn-bisync-case-edit-');
  const at = (p: string, iso: string) => fs.utimesSync(p, new Date(iso), new Date(iso));
  fs.writeFileSync(path.join(a, 'README'), 'v1\n');
  at(path.join(a, 'README'), '2024-01-01T00:00:00Z');
  const flags = ['--caps-b', 'case_sensitive=false'];
  assert.deepEqual(bisync(a, b, state, [], flags).codes, [0, 0, 0]);
  fs.writeFileSync(path.join(a, 'README'), 'v2, an edit\n');
  at(path.join(a, 'README'), '2024-02-01T00:00:00Z');
  // Renamed on b, and touched later than the edit: the touch must not win over the content.
  fs.renameSync(path.join(b, 'README'), path.join(b, 'readme'));
  at(path.join(b, 'readme'), '2024-03-01T00:00:00Z');
  const r = bisync(a, b, state, [], flags);
  assert.deepEqual(r.codes, [0, 0, 0], r.stderr);
  for (const side of [a, b]) assert.equal(fs.readFileSync(path.join(side, 'readme'), 'utf8'), 'v2, an edit\n');
  assert.deepEqual(fs.readdirSync(a), ['readme']);
});

test('an object a stopped change of case left under its intermediate name is reported and kept, never removed', () => {
  const { a, b, state } = newPair('cairn-bisync-renaming-');
  fs.writeFileSync(path.join(a, 'README'), 'v1\n');
  fs.writeFileSync(path.join(a, 'other'), 'o\n');
  const flags = ['--caps-a', 'case_sensitive=false'];
  assert.deepEqual(bisync(a, b, state, [], flags).codes, [0, 0, 0]);
  // As after kill -9 between the two renames of a change of case on side a.
  fs.writeFileSync(path.join(a, 'README'), "a's edit\n");
  fs.renameSync(path.join(a, 'README'), path.join(a, '.cairn-rename.4242.1'));
  const r = bisync(a, b, state, [], flags);
  assert.equal(r.codes[2], 1, r.stderr);
  assert.ok(summary(r.results).includes('conflict - .cairn-rename.4242.1 conflict'), summary(r.results).join('\n'));
  assert.equal(fs.readFileSync(path.join(a, '.cairn-rename.4242.1'), 'utf8'), "a's edit\n");
  assert.equal(fs.existsSync(path.join(b, '.cairn-rename.4242.1')), false, 'never carried across');
});
