import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as zlib from 'node:zlib';
import { descriptorFacts, quickFacts } from '../../lib/restore/descriptor-hashes';

const H = `sha256:${'ab'.repeat(32)}`;

/** Descriptor lines: as cairn-pack writes them, and as a hand or another tool might. */
const LINES = [
  `{"path":"a/b.txt","type":"file","size":3,"mtime":"2026-01-01T00:00:00Z","mode":"0644","uid":0,"gid":0,"hash":"${H}"}`,
  `{"path":"a","type":"dir","mtime":"2026-01-01T00:00:00Z","mode":"0755","uid":0,"gid":0}`,
  `{"path":"a/l","type":"symlink","target":"b.txt","mtime":"2026-01-01T00:00:00Z"}`,
  `{"path":"a/p","type":"fifo","mode":"0644"}`,
  `{"path":"日本/ファイル","type":"file","size":1,"hash":"${H}"}`,
  `{"path":"q\\"uote","type":"file","hash":"${H}"}`,
  `{"path":"back\\\\slash","type":"file","hash":"${H}"}`,
  `{"path":"\\u0041","type":"file","hash":"${H}"}`,
  `{"path":"x","path_b64":"/w==","type":"file","hash":"${H}"}`,
  `{"path":"big","type":"file","size":10,"part":{"offset":0,"size":5,"hash":"${H}"}}`,
  `{"path":"dup","type":"file","hash":"${H}","hash":"sha256:${'cd'.repeat(32)}"}`,
  `{"path":"dup2","type":"file","type":"dir"}`,
  `{"path":"dup3","type":"file","path":"other","hash":"${H}"}`,
  `{"path":"nohash","type":"file","size":0}`,
  `{"path":"tab\there","type":"file","hash":"${H}"}`,
  `{"path":"t","type":"file","hash":"${H}","xattrs":["a","b"]}`,
  `{"path":"cut","type":"file","hash":"${H}"`,
  `{"path":"weird","type":"file","hash":"md5:${'0'.repeat(32)}","size":1}`,
  `{"path":"","type":"file","hash":"${H}"}`,
  `{"path":"sp1","type":"file","hash": "${H}"}`,
  `{"path":"sp2","type":"fifo","type" :"file"}`,
  `{"path":"sp3","type":"file","path" :"sp4","hash":"${H}"}`,
  `{"path":"sp5","type":"file","path_b64":"/g==","hash":"${H}"}`,
  `{"path":"sp6","type":"file","kind":"hash","hash":"${H}"}`,
];

function pick(line: string): unknown {
  try {
    const r = JSON.parse(line) as Record<string, unknown>;
    const out: Record<string, unknown> = { path: r.path, type: r.type };
    if (r.hash !== undefined) out.hash = r.hash;
    return out;
  } catch {
    return undefined;
  }
}

test('quickFacts: a line it reads says what JSON.parse says of it; the rest it leaves to JSON.parse', () => {
  let read = 0;
  for (const line of LINES) {
    const q = quickFacts(line);
    if (q === undefined) continue;
    read++;
    assert.deepEqual(q, pick(line), line);
  }
  // cairn-pack's own lines take the quick road.
  for (const k of [0, 1, 2, 3, 4, 13, 15, 17, 18]) assert.notEqual(quickFacts(LINES[k]!), undefined, LINES[k]);
  for (const k of [5, 6, 7, 8, 9, 10, 11, 12, 14, 16, 19, 20, 21, 22, 23]) assert.equal(quickFacts(LINES[k]!), undefined, LINES[k]);
  assert.equal(read, 9);
});

test('descriptorFacts: hashes by name bytes (parts under their part name), specials by type, gzip or not, bad lines left out', () => {
  const text = ['{"cairn":"volume","version":1}', ...LINES, 'not json', ''].join('\n');
  for (const raw of [Buffer.from(text), zlib.gzipSync(text)]) {
    const { hashes, specials } = descriptorFacts(raw);
    assert.equal(hashes.get('a/b.txt'), H);
    assert.equal(hashes.get(Buffer.from('日本/ファイル').toString('latin1')), H);
    assert.equal(hashes.get('q"uote'), H);
    assert.equal(hashes.get('back\\slash'), H);
    assert.equal(hashes.get('A'), H);
    assert.equal(hashes.get('\xff'), H, 'path_b64 gives the bytes');
    assert.equal(hashes.get('x'), undefined);
    assert.equal(hashes.get('dup'), `sha256:${'cd'.repeat(32)}`, 'the last of two keys, as JSON.parse reads it');
    assert.equal(hashes.get('other'), H);
    assert.equal(hashes.get('dup3'), undefined);
    assert.equal(hashes.get('weird'), `md5:${'0'.repeat(32)}`);
    assert.equal(hashes.get('cut'), undefined, 'a line cut short is no record');
    assert.equal(hashes.get('tab\there'), undefined, 'a raw tab is no JSON');
    assert.equal([...hashes.keys()].some((k) => k.startsWith('big')), true, 'a part, under its part name');
    assert.equal(hashes.has('big'), false);
    assert.equal(hashes.has('a'), false);
    assert.deepEqual([...specials], [['a/p', 'fifo']], 'sp2 is a file: the last of its two types');
    assert.equal(hashes.get('sp1'), H, 'a space after the colon');
    assert.equal(hashes.get('sp4'), H);
    assert.equal(hashes.get('sp3'), undefined);
    assert.equal(hashes.get('\xfe'), H, 'path_b64 after the type');
    assert.equal(hashes.get('sp5'), undefined);
    assert.equal(hashes.get('sp6'), H);
  }
  assert.deepEqual(descriptorFacts(Buffer.from([0x1f, 0x8b, 1, 2])).hashes.size, 0, 'broken gzip: nothing');
});
