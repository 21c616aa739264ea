import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matchLines, type Matched } from '../../lib/scan/match-lines';
import { formatTime } from '../../lib/records/time';
import { lineMatcher } from '../../lib/tree/local/native';

const KEY = Buffer.from(',"hash":"sha256:');
const HEX = 'ab01'.repeat(16);
const CTIME: [number, number] = [1795312977, 123456789];

/** A line of this scan, PREV's line for it, and the ctime this scan gives it (files only). */
interface Pair {
  ours: string;
  prev: string;
  ctime?: [number, number];
}

function file(name: string, hash = HEX, ctime: [number, number] = CTIME, prevCtime = ctime): Pair {
  const head = `{"path":${JSON.stringify(name)},"type":"file","size":3,"mtime":"2026-11-22T01:02:03.000000001Z","ino":42`;
  return { ours: `${head}}`, prev: `${head},"hash":"sha256:${hash}","ctime":"${formatTime(...prevCtime)}"}`, ctime };
}

function dir(name: string): Pair {
  const line = `{"path":${JSON.stringify(name)},"type":"dir","mtime":"2026-11-22T01:02:03.000000001Z"}`;
  return { ours: line, prev: line };
}

function lines(pairs: Pair[], prevTail = '\n'): { ours: string; prev: Buffer; ctimes: Float64Array } {
  return {
    ours: pairs.map((p) => `${p.ours}\n`).join(''),
    prev: Buffer.from(pairs.map((p) => p.prev).join('\n') + prevTail),
    ctimes: Float64Array.from(pairs.flatMap((p) => p.ctime ?? [NaN, NaN])),
  };
}

/** Both implementations on the same input: they must agree, and the answer is returned. */
function both(t: { ours: string; prev: Buffer; ctimes: Float64Array }, prevFrom = 0, firstLine = 0): Matched {
  const units = Buffer.from(t.ours, 'utf16le');
  const n = t.ours.length;
  const js = matchLines(units, 0, n, t.prev, prevFrom, t.prev.length, KEY, 64, t.ctimes, firstLine, false);
  const c = matchLines(units, 0, n, t.prev, prevFrom, t.prev.length, KEY, 64, t.ctimes, firstLine, true);
  assert.deepEqual(c, js, `C and JavaScript differ on ${JSON.stringify(t.ours)} / ${JSON.stringify(t.prev.toString())}`);
  return js;
}

test('the addon has the line matcher (make builds native/)', () => {
  assert.ok(lineMatcher !== undefined, 'the addon did not load: make did not build native/');
});

test('lines that are PREV\'s but for the hash and ctime are taken, names of every width included', () => {
  const pairs = [dir('a'), file('a/café'), file('a/日本語.txt'), file('a/emoji 😀 face'), file('a/plain-and-long-enough-for-blocks.jpeg'), dir('a/b')];
  const t = lines(pairs);
  const lastAt = t.ours.length - pairs[5]!.ours.length - 1;
  assert.deepEqual(both(t), { lines: 6, units: t.ours.length, prevBytes: t.prev.length, last: lastAt });
  // PREV's last line without its newline (the end of a piece) counts one byte for it.
  const cut = lines(pairs, '');
  assert.deepEqual(both(cut), { lines: 6, units: t.ours.length, prevBytes: cut.prev.length + 1, last: lastAt });
  // From an offset into PREV's bytes, and ctimes numbered from an earlier line.
  const shifted = { ...t, prev: Buffer.concat([Buffer.from('{"x":1}\n'), t.prev]), ctimes: Float64Array.from([1, 2, ...t.ctimes]) };
  assert.equal(both(shifted, 8, 1).lines, 6);
  // Times at the ends of what can be written, before 1970, and clamped beyond (as formatTime clamps them).
  for (const ctime of [[-62167219200, 0], [253402300799, 999999999], [-1, 999999999], [0, 0], [-1e13, 5], [1e13, 5], [Infinity, 0], [-Infinity, 7], [1e13 + 0.5, 0]] as [number, number][]) {
    assert.equal(both(lines([file('t', HEX, ctime)])).lines, 1, `ctime ${ctime}`);
  }
});

test('the run stops at the first line that is not PREV\'s', () => {
  const good = [file('a'), file('b')];
  const cases: [string, Pair][] = [
    ['upper-case hex', file('c', HEX.toUpperCase())],
    ['a short hash', file('c', HEX.slice(2))],
    ['a long hash', file('c', `${HEX}00`)],
    ['another ctime', file('c', HEX, CTIME, [CTIME[0], CTIME[1] + 1])],
    ['another ctime second', file('c', HEX, CTIME, [CTIME[0] - 1, CTIME[1]])],
    ['ctime numbers that are no time', { ...file('c'), ctime: [CTIME[0] + 0.5, CTIME[1]] }],
    ['nanoseconds out of range', { ...file('c'), ctime: [CTIME[0], 1e9] }],
    ['another name', { ...file('c'), prev: file('d').prev }],
    ['a name that is the latin1 reading of the bytes', { ...file('cafÃ©'), prev: file('café').prev }],
    ['no hash in PREV', { ...file('c'), prev: file('c').ours }],
    ['a file taken for something else', { ...file('c'), ctime: undefined }],
    ['a directory taken for a file', { ...dir('c'), ctime: CTIME }],
    ['a directory of another time', { ...dir('c'), prev: dir('c').prev.replace('03.', '04.') }],
    // JSON.stringify escapes one, but the matcher must not take one either way (PREV's bytes would be U+FFFD's).
    ['a lone surrogate', { ...file('c'), ours: file('c').ours.replace('"c"', '"c\ud800"'), prev: file('c').prev.replace('"c"', '"c\ud800"') }],
  ];
  for (const [why, bad] of cases) {
    const t = lines([...good, bad, file('z')]);
    const m = both(t);
    assert.equal(m.lines, 2, why);
    assert.equal(m.units, good[0]!.ours.length + good[1]!.ours.length + 2, why);
    assert.equal(m.prevBytes, Buffer.byteLength(good[0]!.prev + good[1]!.prev) + 2, why);
  }
  // An empty PREV line, PREV ending before this scan does, and ctimes ending before the lines.
  const two = lines([file('a'), file('b')]);
  assert.equal(both({ ...two, prev: Buffer.from(`${file('a').prev}\n\n${file('b').prev}\n`) }).lines, 1);
  assert.equal(both({ ...two, prev: Buffer.from(`${file('a').prev}\n`) }).lines, 1);
  assert.equal(both({ ...two, ctimes: two.ctimes.subarray(0, 2) }).lines, 1);
});

test('a brace inside a name is a character like any other; only the line\'s last one takes the hash', () => {
  const t = lines([file('why}'), file('"}"'), file('a/}/b'), dir('}'), file('}\n}')]);
  assert.equal(both(t).lines, 5);
});

test('C and JavaScript agree on random lines and random damage', () => {
  const alphabet = ['a', 'b', 'Z', '0', '}', '"', ' ', 'é', 'ß', '日', '😀', '/', '\\', '-', '\n'];
  let seed = 7;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  let taken = 0;
  for (let round = 0; round < 400; round++) {
    const pairs: Pair[] = [];
    for (let k = 0, n = 1 + rnd(6); k < n; k++) {
      let name = '';
      for (let c = 0, len = rnd(40); c < len; c++) name += alphabet[rnd(alphabet.length)];
      pairs.push(rnd(4) === 0 ? dir(name) : file(name, HEX, [rnd(2) ? 1795312977 : -5000 - rnd(100000), rnd(1e9)]));
    }
    const t = lines(pairs, rnd(2) ? '\n' : '');
    // Damage one byte of PREV, or one ctime, now and then.
    if (rnd(3) === 0) t.prev[rnd(t.prev.length)] ^= 1 << rnd(8);
    if (rnd(5) === 0) t.ctimes[rnd(t.ctimes.length)] += 1;
    taken += both(t).lines;
  }
  assert.ok(taken > 500, `only ${taken} lines taken: the cases are too broken to test much`);
});
