import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import ndjson from 'ndjson';
import { InputError } from '../../lib/cli/errors';
import { ENTRIES } from '../../lib/records/entries';
import { LineReader } from '../../lib/records/line-reader';
import { StreamReader } from '../../lib/records/stream-reader';
import { tempDir } from '../helpers/run';

const HEADER = '{"cairn":"entries","version":1,"root":"/src","hash":null}';
const e = (path: string, extra = '') => `{"path":${JSON.stringify(path)},"type":"file","size":1,"mtime":"2024-03-01T10:11:12.123456789Z"${extra}}`;
const END = '{"cairn":"end"}';

async function readAll(text: string | Buffer, chunk = 7): Promise<unknown[]> {
  const buf = Buffer.isBuffer(text) ? text : Buffer.from(text);
  const pieces: Buffer[] = [];
  for (let i = 0; i < buf.length; i += chunk) pieces.push(buf.subarray(i, i + chunk));
  const r = await StreamReader.fromLines(new LineReader(Readable.from(pieces), 'in.ndjson'), ENTRIES);
  const out: unknown[] = [r.header];
  for (let x = await r.next(); x !== undefined; x = await r.next()) out.push(x);
  return out;
}

async function rejects(text: string | Buffer, message: string): Promise<void> {
  await assert.rejects(readAll(text), (err: unknown) => {
    assert.ok(err instanceof InputError, String(err));
    assert.equal(err.message, message);
    return true;
  });
}

test('reads a valid stream in any chunking, fills header defaults', async () => {
  const text = [HEADER, e('a'), e('a/b'), e('a.txt'), END, ''].join('\n');
  for (const chunk of [1, 3, 64, 1 << 20]) {
    const out = await readAll(text, chunk);
    assert.equal(out.length, 4);
    assert.deepEqual((out.slice(1) as { path: string }[]).map((x) => x.path), ['a', 'a/b', 'a.txt']);
    assert.equal((out[0] as { caps: { perms: boolean } }).caps.perms, true);
  }
});

test('header problems name line 1', async () => {
  await rejects(`${e('a')}\n${END}\n`, 'in.ndjson:1: missing header: expected {"cairn":"entries",...} on line 1');
  await rejects('{"cairn":"plan","version":1}\n', 'in.ndjson:1: cairn: expected an entries stream, got "plan"');
  await rejects('{"cairn":"entries","version":2,"root":"/"}\n', 'in.ndjson:1: version: 2 is newer than this cairn reads (1); upgrade cairn');
  await rejects('{"cairn":"entries","version":1}\n', 'in.ndjson:1: root: missing or not an absolute path or s3:// location');
  await rejects('', 'in.ndjson: empty input: expected a cairn entries stream');
});

test('record problems name file, line and field', async () => {
  const bad = (line: string) => [HEADER, e('a'), line, END, ''].join('\n');
  await rejects(bad('{"path":"b","type":"file"'), 'in.ndjson:3: not valid JSON at column 26');
  await rejects(bad('{"path":"b",'), 'in.ndjson:3: not valid JSON at column 13');
  await rejects(bad('null'), 'in.ndjson:3: not a JSON object');
  await rejects(bad(''), 'in.ndjson:3: empty line');
  await rejects(bad(e('/etc/passwd')), 'in.ndjson:3: path: absolute (leading /)');
  await rejects(bad(e('b/../../x')), 'in.ndjson:3: path: "." or ".." component');
  await rejects(bad(e('b//c')), 'in.ndjson:3: path: empty component');
  await rejects(bad('{"path":"b","type":"file","mtime":"2024-03-01T10:11:12.123456789Z"}'), 'in.ndjson:3: size: files need a size: a non-negative integer');
  await rejects(bad('{"path":"b","type":"door","mtime":"2024-03-01T10:11:12.123456789Z"}'), 'in.ndjson:3: type: must be one of file, dir, symlink, fifo, socket, block, char');
  await rejects(bad(e('b').replace('.123456789Z', 'Z')), 'in.ndjson:3: mtime: must be RFC 3339 UTC with 9 fractional digits (2024-03-01T10:11:12.123456789Z)');
  await rejects(bad(e('b', ',"mode":"644"')), 'in.ndjson:3: mode: must be 4 octal digits');
  await rejects(bad(e('b', ',"hash":"sha256:abc"')), 'in.ndjson:3: hash: not a sha256 hex digest');
  await rejects(bad(e('b', ',"path_b64":"Li4="')), 'in.ndjson:3: path_b64: "." or ".." component');
  await rejects(bad('{"path":"b","type":"symlink","mtime":"2024-03-01T10:11:12.123456789Z"}'), 'in.ndjson:3: target: symlinks need a target string');
  await rejects(bad(e('b').replace('03-01', '13-01')), 'in.ndjson:3: mtime: must be RFC 3339 UTC with 9 fractional digits (2024-03-01T10:11:12.123456789Z)');
  await rejects(bad(e('b', ',"dev":-1')), 'in.ndjson:3: dev: must be a non-negative integer');
  await rejects(bad(e('b', ',"hash":"md5:' + '0'.repeat(32) + '"')), 'in.ndjson:3: hash: the header names no hash algorithm');
  await rejects(bad(e('b', ',"path_b64":"Yg"')), 'in.ndjson:3: path_b64: not canonical base64 (length or padding)');
  await rejects(bad(e('b', ',"ino":9007199254740993')), 'in.ndjson:3: ino: must be a non-negative integer (a decimal string beyond 2^53)');
  await rejects(bad('{"cairn":"plan"}'), 'in.ndjson:3: cairn: unexpected record kind "plan"');
});

test('canonical order is checked', async () => {
  await rejects([HEADER, e('a.txt'), e('a/b'), END, ''].join('\n'), 'in.ndjson:3: path: out of canonical order (after "a.txt")');
  await rejects([HEADER, e('a'), e('a'), END, ''].join('\n'), 'in.ndjson:3: path: duplicate path');
});

test('a stream without its end record is truncated; nothing may follow the end', async () => {
  await rejects([HEADER, e('a'), ''].join('\n'), 'in.ndjson:2: truncated: the stream has no end record (did the command writing it fail?)');
  await rejects([HEADER, e('a'), END, e('b'), ''].join('\n'), 'in.ndjson:4: data after the end record');
});

test('invalid UTF-8 is refused with its line', async () => {
  const buf = Buffer.concat([Buffer.from(`${HEADER}\n${e('a')}\n{"path":"b`), Buffer.from([0xff]), Buffer.from(`","type":"dir"}\n`)]);
  await rejects(buf, 'in.ndjson:3: invalid UTF-8 (raw names belong in path_b64)');
});

test('the first fault is the one reported, however the bytes were read', async () => {
  const buf = Buffer.concat([Buffer.from(`${HEADER}\n${e('b')}\n${e('a')}\n${e('c')}\n{"path":"d`), Buffer.from([0xff]), Buffer.from(`"}\n${END}\n`)]);
  for (const chunk of [1, 7, 100, 1 << 20]) {
    await assert.rejects(readAll(buf, chunk), (err: unknown) => (err as Error).message === 'in.ndjson:3: path: out of canonical order (after "b")', `chunk ${chunk}`);
  }
});

test('parses what the ndjson package parses, record for record', async () => {
  const lines = [HEADER];
  for (let i = 0; i < 500; i++) lines.push(e(`d${String(i).padStart(4, '0')}/f "quoted" \\ é \u{1F600}`, `,"mode":"0644","uid":${i},"gid":0`));
  lines.push(END, '');
  const text = lines.join('\n');
  const ours = await readAll(text, 4096);
  const theirs: unknown[] = [];
  await new Promise<void>((resolve, reject) => {
    Readable.from([text]).pipe(ndjson.parse({ strict: true })).on('data', (o: unknown) => theirs.push(o)).on('end', resolve).on('error', reject);
  });
  assert.deepEqual(ours.slice(1), theirs.slice(1, -1));
});

test('lines come out exact whatever mix of ASCII and UTF-8 a chunk holds, in chunks big and small', async () => {
  // Names of 1 to 4 UTF-8 bytes a character, among ASCII lines, over 3 MB: a 1 MiB chunk is split in pieces before decoding.
  const names = ['plain', 'café', 'ĳ', '日本語', 'z😀', 'mixed é then ascii after it', ''];
  const lines: string[] = [];
  for (let i = 0; lines.length < 60000; i++) lines.push(`${i} ${names[i % names.length]} ${'x'.repeat(i % 97)}`);
  const bytes = Buffer.from(lines.join('\n') + '\n');
  for (const size of [1 << 20, 65536, 7]) {
    const chunks: Buffer[] = [];
    for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
    const reader = new LineReader(Readable.from(chunks), 'mixed');
    const got: string[] = [];
    for (let line = await reader.next(); line !== undefined; line = await reader.next()) got.push(line);
    assert.equal(got.length, lines.length, `chunks of ${size}`);
    const firstWrong = got.findIndex((l, i) => l !== lines[i]);
    assert.equal(firstWrong, -1, `chunks of ${size}: line ${firstWrong + 1} is ${JSON.stringify(got[firstWrong])}`);
  }
});

/** `count` numbered lines of names of every UTF-8 width, `pad` wide at most. */
function mixedLines(names: string[], count: number, pad: number): string[] {
  const lines: string[] = [];
  for (let i = 0; lines.length < count; i++) lines.push(`${i} ${names[i % names.length]} ${'x'.repeat(i % pad)}`);
  return lines;
}

/** A line reader over the lines, handed over in chunks of `size` bytes. */
function readerOf(lines: string[], size: number): LineReader {
  const bytes = Buffer.from(lines.join('\n') + '\n');
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
  return new LineReader(Readable.from(chunks), 'mixed');
}

test('peekRaw gives a line\'s bytes as latin1, peek and take its text; skip takes it unread', async () => {
  const lines = mixedLines(['plain', 'café', '日本語', 'z😀', 'Ã©'], 40000, 61);
  for (const size of [1 << 20, 4093]) {
    const reader = readerOf(lines, size);
    for (let i = 0; i < lines.length; i++) {
      if (reader.peekRaw() === undefined) assert.ok(await reader.fill());
      const want = lines[i]!;
      assert.equal(reader.peekRaw(), Buffer.from(want).toString('latin1'), `line ${i + 1}`);
      if (i % 3 === 0) reader.skip();
      else {
        if (i % 3 === 1) assert.equal(reader.peek(), want);
        assert.equal(reader.take(), want, `chunks of ${size}: line ${i + 1}`);
      }
      assert.equal(reader.line, i + 1);
    }
    assert.equal(await reader.next(), undefined);
  }
});

test('skipBytes takes lines by their bytes, split or not, mixed with peekRaw, take and skip', async () => {
  const lines = mixedLines(['plain', 'café', '日本語', 'z😀'], 30000, 47);
  for (const size of [1 << 20, 5003]) {
    const reader = readerOf(lines, size);
    let seed = size;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % n);
    for (let i = 0; i < lines.length; ) {
      if (reader.peekRaw() === undefined) assert.ok(await reader.fill());
      const how = rnd(4);
      if (how === 0) {
        // Up to 5 lines of the current piece by their bytes (the way cairn-scan --reuse takes PREV's lines).
        const { bytes: piece, at } = reader.peekBytes()!;
        let n = 0;
        let end = at;
        for (let want = 1 + rnd(5); n < want; ) {
          const nl = piece.indexOf(0x0a, end);
          n++;
          end = nl < 0 ? piece.length + 1 : nl + 1;
          if (nl < 0) break;
        }
        assert.equal(piece.toString('utf8', at, Math.min(end, piece.length)).replace(/\n$/, ''), lines.slice(i, i + n).join('\n'), `line ${i + 1}`);
        reader.skipBytes(n, end - at);
        i += n;
      } else if (how === 1) {
        reader.skip();
        i++;
      } else {
        assert.equal(reader.peekRaw(), Buffer.from(lines[i]!).toString('latin1'), `line ${i + 1}`);
        assert.equal(reader.take(), lines[i], `line ${i + 1}`);
        i++;
      }
      assert.equal(reader.line, i, `chunks of ${size}`);
    }
    assert.equal(await reader.next(), undefined);
  }
});

test('a byte-order mark before the header is ignored, however the bytes arrive; anywhere else it is not JSON', async () => {
  const text = [HEADER, e('a'), END, ''].join('\n');
  const plain = await readAll(text);
  for (const chunk of [1, 2, 7, 4096]) assert.deepEqual(await readAll(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]), chunk), plain, `chunks of ${chunk}`);
  await rejects(`${HEADER}\n\ufeff${e('a')}\n${END}\n`, 'in.ndjson:2: not valid JSON: a byte-order mark (U+FEFF) begins the line');
});

test('a file read through one reused buffer: every line as written, across MiB chunks, names not ASCII among them', async () => {
  // StreamReader.open reads a file a MiB at a time into one buffer; lines not ASCII are decoded from it when taken.
  const names = ['plain', 'café', '日本語', 'z😀', 'Ã©'];
  const paths: string[] = [];
  for (let i = 0; paths.length < 30000; i++) paths.push(`d${String(i).padStart(6, '0')} ${names[i % names.length]} ${'x'.repeat(i % 113)}`);
  const file = path.join(tempDir('cairn-reader-'), 'big.ndjson');
  fs.writeFileSync(file, [HEADER, ...paths.map((p) => e(p)), END, ''].join('\n'));
  assert.ok(fs.statSync(file).size > 3 << 20);
  const r = await StreamReader.open(file, ENTRIES);
  const got: string[] = [];
  for (let x = await r.next(); x !== undefined; x = await r.next()) got.push(x.path);
  assert.equal(got.length, paths.length);
  const firstWrong = got.findIndex((p, i) => p !== paths[i]);
  assert.equal(firstWrong, -1, `record ${firstWrong + 1}: ${JSON.stringify(got[firstWrong])}`);
});
