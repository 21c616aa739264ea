import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matchLines, type Matched } from '../../lib/scan/match-lines';
import { lineMatcher } from '../../lib/tree/local/native';

const MARKER = Buffer.from(',"hash":"sha256:?"');
const HEX = 'ab01'.repeat(16);

/** This scan's line of a file (with the placeholder) and PREV's line of it (with `hash`). */
function file(name: string, hash = HEX, ctime = '2026-11-22T01:02:03.123456789Z'): [string, string] {
  const head = `{"path":${JSON.stringify(name)},"type":"file","size":3,"mtime":"2026-11-22T01:02:03.000000001Z","ino":"42"`;
  return [`${head},"hash":"sha256:?","ctime":"${ctime}"}`, `${head},"hash":"sha256:${hash}","ctime":"${ctime}"}`];
}

function dir(name: string): [string, string] {
  const line = `{"path":${JSON.stringify(name)},"type":"dir","mtime":"2026-11-22T01:02:03.000000001Z"}`;
  return [line, line];
}

/** Both implementations on the same input: they must agree, and the answer is returned. */
function both(ours: string, prev: Buffer, prevFrom = 0, prevEnd = prev.length): Matched {
  const units = Buffer.from(ours, 'utf16le');
  const n = ours.length;
  const js = matchLines(units, 0, n, prev, prevFrom, prevEnd, MARKER, 64, false);
  const c = matchLines(units, 0, n, prev, prevFrom, prevEnd, MARKER, 64, true);
  assert.deepEqual(c, js, `C and JavaScript differ on ${JSON.stringify(ours)} / ${JSON.stringify(prev.toString())}`);
  return js;
}

function lines(pairs: [string, string][], prevTail = '\n'): { ours: string; prev: Buffer } {
  return { ours: pairs.map((p) => `${p[0]}\n`).join(''), prev: Buffer.from(pairs.map((p) => p[1]).join('\n') + prevTail) };
}

test('the addon has the line matcher (make builds native/)', () => {
  assert.ok(lineMatcher !== undefined, 'the addon did not load: make did not build native/');
});

test('lines that are PREV\'s but for the hash are taken, names of every width included', () => {
  const pairs = [dir('a'), file('a/café'), file('a/日本語.txt'), file('a/emoji 😀 face'), file('a/plain-and-long-enough-for-blocks.jpeg'), dir('a/b')];
  const { ours, prev } = lines(pairs);
  assert.deepEqual(both(ours, prev), { lines: 6, units: ours.length, prevBytes: prev.length, last: ours.length - pairs[5]![0].length - 1 });
  // PREV's last line without its newline (the end of a piece) counts one byte for it.
  const cut = lines(pairs, '');
  assert.deepEqual(both(ours, cut.prev), { lines: 6, units: ours.length, prevBytes: cut.prev.length + 1, last: ours.length - pairs[5]![0].length - 1 });
  // From an offset into PREV's bytes.
  const shifted = Buffer.concat([Buffer.from('{"x":1}\n'), prev]);
  assert.equal(both(ours, shifted, 8).lines, 6);
});

test('the run stops at the first line that is not PREV\'s', () => {
  const good = [file('a'), file('b')];
  const cases: [string, [string, string]][] = [
    ['upper-case hex', [file('c')[0], file('c', HEX.toUpperCase())[1]]],
    ['a short hash', [file('c')[0], file('c', HEX.slice(2))[1]]],
    ['a long hash', [file('c')[0], file('c', `${HEX}00`)[1]]],
    ['another ctime', [file('c')[0], file('c', HEX, '2026-11-22T01:02:03.123456780Z')[1]]],
    ['another name', [file('c')[0], file('d')[1]]],
    ['a name that is the latin1 reading of the bytes', [file('cafÃ©')[0], file('café')[1]]],
    ['no hash in PREV', [file('c')[0], file('c')[0]]],
    ['a directory of another time', [dir('c')[0], dir('c')[1].replace('03.', '04.')]],
    // JSON.stringify escapes one, but the matcher must not take one either way (PREV's bytes would be U+FFFD's).
    ['a lone surrogate', [file('c')[0].replace('"c"', '"c\ud800"'), file('c')[1].replace('"c"', '"c\ud800"')]],
  ];
  for (const [why, bad] of cases) {
    const { ours, prev } = lines([...good, bad, file('z')]);
    const m = both(ours, prev);
    assert.equal(m.lines, 2, why);
    assert.equal(m.units, good[0]![0].length + good[1]![0].length + 2, why);
    assert.equal(m.prevBytes, Buffer.byteLength(good[0]![1] + good[1]![1]) + 2, why);
  }
  // An empty PREV line, and PREV ending before this scan does.
  assert.equal(both(lines([file('a'), file('b')]).ours, Buffer.from(`${file('a')[1]}\n\n${file('b')[1]}\n`)).lines, 1);
  assert.equal(both(lines([file('a'), file('b')]).ours, Buffer.from(`${file('a')[1]}\n`)).lines, 1);
});

test('a ? in a name is a character like any other; only the marker\'s is the placeholder', () => {
  const { ours, prev } = lines([file('why?'), file('"?"'), file('a/?/b'), dir('?')]);
  assert.equal(both(ours, prev).lines, 4);
  // A line whose ? is not the placeholder and PREV holds digits there: not taken.
  const odd = `{"path":"x","hash":"sha256:?","note":"?"}\n`;
  assert.equal(both(odd, Buffer.from(`{"path":"x","hash":"sha256:${HEX}","note":"${HEX}"}\n`)).lines, 0);
  assert.equal(both(odd, Buffer.from(`{"path":"x","hash":"sha256:${HEX}","note":"?"}\n`)).lines, 1);
});

test('C and JavaScript agree on random lines and random damage', () => {
  const alphabet = ['a', 'b', 'Z', '0', '?', '"', ' ', 'é', 'ß', '日', '😀', '/', '\\', '-'];
  let seed = 7;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  let taken = 0;
  for (let round = 0; round < 400; round++) {
    const pairs: [string, string][] = [];
    for (let k = 0, n = 1 + rnd(6); k < n; k++) {
      let name = '';
      for (let c = 0, len = rnd(40); c < len; c++) name += alphabet[rnd(alphabet.length)];
      pairs.push(rnd(4) === 0 ? dir(name) : file(name));
    }
    const { ours, prev } = lines(pairs, rnd(2) ? '\n' : '');
    // Damage one byte of PREV now and then.
    if (rnd(3) === 0) prev[rnd(prev.length)] ^= 1 << rnd(8);
    taken += both(ours, prev).lines;
  }
  assert.ok(taken > 500, `only ${taken} lines taken: the cases are too broken to test much`);
});
