import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { isRoot, records, run, sh, tempDir } from '../helpers/run';
import { makeSocket, makeWideTree, setTime } from '../helpers/tree';

const T = '2024-03-01 10:11:12.123456789';
const TS = '2024-03-01T10:11:12.123456789Z';
const RAW_NAME = Buffer.from([0x63, 0x61, 0x66, 0xe9]); // "caf" + Latin-1 é: not UTF-8

/** A tree holding every kind of object, with fixed times, modes and (as root) owners. */
function buildEveryType(): string {
  const root = tempDir();
  const p = (...xs: string[]) => path.join(root, ...xs);
  fs.writeFileSync(p('a.txt'), 'hello');
  fs.mkdirSync(p('a'));
  fs.writeFileSync(p('a', 'b'), '');
  fs.mkdirSync(p('empty'));
  fs.writeFileSync(p('name with spaces = and \\ backslash'), 'x');
  fs.writeFileSync(p('new\nline'), 'x');
  fs.writeFileSync(p('déjà vu \u{1F389}'), 'x');
  fs.writeFileSync(p('exec.sh'), '#!/bin/sh\n', { mode: 0o755 });
  fs.symlinkSync('a.txt', p('link'));
  fs.symlinkSync('nowhere/at/all', p('dangling'));
  fs.writeFileSync(p('hard1'), 'linked');
  fs.linkSync(p('hard1'), p('hard2'));
  execSync(`mkfifo ${JSON.stringify(p('fifo'))}`);
  makeSocket(p('sock'));
  fs.writeFileSync(Buffer.concat([Buffer.from(`${root}/`), RAW_NAME]), 'latin1');
  if (isRoot) {
    execSync(`mknod ${p('blk')} b 7 200 && mknod ${p('chr')} c 1 3`);
  }
  for (const name of fs.readdirSync(root, { encoding: 'buffer' })) {
    const full = Buffer.concat([Buffer.from(`${root}/`), name]);
    if (isRoot) fs.lchownSync(full, 1234, 5678);
    if (name.toString() !== 'exec.sh' && !fs.lstatSync(full).isSymbolicLink()) fs.chmodSync(full, fs.lstatSync(full).isDirectory() ? 0o750 : 0o640);
  }
  if (isRoot) fs.lchownSync(p('a', 'b'), 1234, 5678);
  fs.chmodSync(p('exec.sh'), 0o4755); // after chown, which clears set-user-ID
  fs.chmodSync(p('a', 'b'), 0o600);
  for (const name of ['a/b', 'a', 'link', 'dangling']) setTime(p(name), T);
  // find hands touch every name as raw bytes, the non-UTF-8 one included.
  execSync(`find ${root} -mindepth 1 -maxdepth 1 -exec touch -h -d '${T}' {} +`);
  return root;
}

function execSync(cmd: string): void {
  require('node:child_process').execSync(cmd, { stdio: 'inherit' });
}

test('scans every object type into exact entries, in canonical order, ending with the end record', async (t) => {
  if (!isRoot) t.diagnostic('not root: owners and device nodes are not checked (CI runs as root)');
  const root = buildEveryType();
  const r = await run('cairn-scan', [root]);
  assert.equal(r.stderr, '');
  assert.equal(r.code, 0);
  const recs = records(r.stdout);
  const header = recs[0]!;
  assert.equal(header.cairn, 'entries');
  assert.equal(header.version, 1);
  assert.equal(header.root, root);
  assert.equal(header.hash, null);
  assert.deepEqual(header.filters, []);
  assert.deepEqual(header.options, { follow: false, one_file_system: false });
  assert.equal((header.caps as { fs: string }).fs.length > 0, true);
  assert.deepEqual(recs[recs.length - 1], { cairn: 'end' });

  const entries = recs.slice(1, -1);
  const names = entries.map((e) => e.path);
  const expectedOrder = [
    'a', 'a/b', 'a.txt',
    ...(isRoot ? ['blk', 'caf\\xe9', 'chr'] : ['caf\\xe9']),
    'dangling', 'déjà vu \u{1F389}', 'empty', 'exec.sh', 'fifo', 'hard1', 'hard2', 'link',
    'name with spaces = and \\ backslash', 'new\nline', 'sock',
  ];
  assert.deepEqual(names, expectedOrder);

  const own = isRoot ? { uid: 1234, gid: 5678 } : { uid: process.getuid!(), gid: process.getgid!() };
  const ino = (rel: string | Buffer) => fs.lstatSync(Buffer.concat([Buffer.from(`${root}/`), Buffer.from(rel)])).ino;
  const byPath = new Map(entries.map((e) => [e.path as string, e]));
  const expect: Record<string, Record<string, unknown>> = {
    a: { path: 'a', type: 'dir', mtime: TS, mode: '0750', ...own },
    'a/b': { path: 'a/b', type: 'file', size: 0, mtime: TS, mode: '0600', ...own, ino: ino('a/b') },
    'a.txt': { path: 'a.txt', type: 'file', size: 5, mtime: TS, mode: '0640', ...own, ino: ino('a.txt') },
    'caf\\xe9': { path: 'caf\\xe9', path_b64: 'Y2Fm6Q==', type: 'file', size: 6, mtime: TS, mode: '0640', ...own, ino: ino(RAW_NAME) },
    dangling: { path: 'dangling', type: 'symlink', mtime: TS, mode: '0777', ...own, target: 'nowhere/at/all' },
    empty: { path: 'empty', type: 'dir', mtime: TS, mode: '0750', ...own },
    'exec.sh': { path: 'exec.sh', type: 'file', size: 10, mtime: TS, mode: '4755', ...own, ino: ino('exec.sh') },
    fifo: { path: 'fifo', type: 'fifo', mtime: TS, mode: '0640', ...own },
    hard1: { path: 'hard1', type: 'file', size: 6, mtime: TS, mode: '0640', ...own, ino: ino('hard1'), nlink: 2, dev: fs.statSync(root).dev },
    link: { path: 'link', type: 'symlink', mtime: TS, mode: '0777', ...own, target: 'a.txt' },
    'new\nline': { path: 'new\nline', type: 'file', size: 1, mtime: TS, mode: '0640', ...own, ino: ino('new\nline') },
    sock: { path: 'sock', type: 'socket', mtime: TS, mode: '0640', ...own },
  };
  if (isRoot) {
    expect.blk = { path: 'blk', type: 'block', mtime: TS, mode: '0640', ...own, rdev: fs.lstatSync(path.join(root, 'blk')).rdev };
    expect.chr = { path: 'chr', type: 'char', mtime: TS, mode: '0640', ...own, rdev: fs.lstatSync(path.join(root, 'chr')).rdev };
  }
  for (const [p, want] of Object.entries(expect)) {
    // Field by field and in the documented order.
    assert.deepEqual(Object.entries(byPath.get(p)!), Object.entries(want), p);
  }
  assert.equal(byPath.get('hard2')!.ino, byPath.get('hard1')!.ino);
  assert.equal(byPath.get('hard2')!.nlink, 2);

  // An independent JSON reader agrees on the line count and the strings.
  if (sh('command -v jq').code !== 0) {
    t.diagnostic('jq is not installed: the cross-check with jq is skipped (.ci/run installs it)');
    return;
  }
  const viaJq = sh(`printf '%s' ${shellQuote(r.stdout)} | jq -c -r 'select(.cairn|not) | .path_b64 // (.path|@base64)'`);
  assert.equal(viaJq.code, 0, viaJq.stderr);
  const raw = viaJq.stdout.trim().split('\n').map((b) => Buffer.from(b, 'base64'));
  const onDisk = fs.readdirSync(root, { encoding: 'buffer' }).concat([Buffer.from('a/b')]);
  assert.deepEqual(raw.map((b) => b.toString('hex')).sort(), onDisk.map((b) => b.toString('hex')).sort());
});

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

test('a directory with a non-UTF-8 name: it and its children carry path_b64', async () => {
  const root = tempDir();
  const dir = Buffer.concat([Buffer.from(`${root}/`), Buffer.from([0xff, 0x61])]);
  fs.mkdirSync(dir);
  fs.writeFileSync(Buffer.concat([dir, Buffer.from('/child')]), '');
  fs.writeFileSync(path.join(root, 'z'), '');
  const entries = records((await run('cairn-scan', [root])).stdout).slice(1, -1);
  assert.deepEqual(entries.map((e) => [e.path, e.path_b64]), [
    ['z', undefined],
    ['\\xffa', Buffer.from([0xff, 0x61]).toString('base64')],
    ['\\xffa/child', Buffer.from('\xffa/child', 'latin1').toString('base64')],
  ]);
});

test('--hash matches sha256sum, b3sum, sha1sum and md5sum; hashed files carry ctime', async () => {
  const root = tempDir();
  fs.writeFileSync(path.join(root, 'big'), Buffer.alloc(3 << 20, 7));
  fs.writeFileSync(path.join(root, 'small'), 'abc');
  fs.writeFileSync(path.join(root, 'empty'), '');
  for (const [alg, tool] of [['sha256', 'sha256sum'], ['blake3', 'b3sum'], ['sha1', 'sha1sum'], ['md5', 'md5sum']] as const) {
    const r = await run('cairn-scan', ['--hash', alg, root]);
    assert.equal(r.code, 0, r.stderr);
    const recs = records(r.stdout);
    assert.equal(recs[0]!.hash, alg);
    const want = sh(`cd ${root} && ${tool} big empty small`).stdout.trim().split('\n').map((l) => `${alg}:${l.split(' ')[0]}`);
    const files = recs.slice(1, -1);
    assert.deepEqual(files.map((e) => e.hash), want);
    for (const e of files) assert.match(e.ctime as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  }
});

test('--reuse takes hashes without reading files whose size, mtime, ctime and inode match', async () => {
  const root = tempDir();
  fs.writeFileSync(path.join(root, 'same'), 'unchanged');
  fs.writeFileSync(path.join(root, 'touched'), 'old');
  const prevFile = path.join(tempDir(), 'prev.ndjson');
  const first = await run('cairn-scan', ['--hash', 'sha256', root]);
  // Plant a hash nobody could compute from the content: if it comes back, the file was not read.
  const planted = 'sha256:' + 'ab'.repeat(32);
  const prev = first.stdout.replace(/"sha256:[0-9a-f]+"/, `"${planted}"`);
  fs.writeFileSync(prevFile, prev);
  fs.writeFileSync(path.join(root, 'touched'), 'new'); // same size, new content, new ctime
  const again = await run('cairn-scan', ['--hash', 'sha256', '--reuse', prevFile, root]);
  assert.equal(again.code, 0, again.stderr);
  const [same, touched] = records(again.stdout).slice(1, -1);
  assert.equal(same!.hash, planted);
  assert.equal(touched!.hash, 'sha256:' + createHash('sha256').update('new').digest('hex'));
  // From stdin too.
  const viaStdin = await run('cairn-scan', ['--hash', 'sha256', '--reuse', '-', root], { input: prev });
  assert.equal(records(viaStdin.stdout)[1]!.hash, planted);
  // A different algorithm or no --hash is refused before anything is written.
  const md5 = await run('cairn-scan', ['--hash', 'md5', '--reuse', prevFile, root]);
  assert.equal(md5.code, 2);
  assert.equal(md5.stdout, '');
  assert.equal(md5.stderr, `cairn-scan: --reuse: ${prevFile} was hashed with sha256, this scan uses md5\n`);
  const noHash = await run('cairn-scan', ['--reuse', prevFile, root]);
  assert.equal(noHash.stderr, 'cairn-scan: --reuse: needs --hash: only hashes are reused\n');
  // PREV is read to its end even when the walk is done with it earlier.
  const noEnd = prev.replace('{"cairn":"end"}\n', '');
  fs.writeFileSync(prevFile, noEnd);
  const unfinished = await run('cairn-scan', ['--hash', 'sha256', '--reuse', prevFile, root]);
  assert.equal(unfinished.code, 2);
  assert.ok(!unfinished.stdout.includes('{"cairn":"end"}'), 'a scan that failed must not look complete');
  assert.match(unfinished.stderr, /truncated: the stream has no end record/);
  // A broken PREV names its line.
  fs.writeFileSync(prevFile, prev.split('\n').slice(0, 2).join('\n') + '\n');
  const truncated = await run('cairn-scan', ['--hash', 'sha256', '--reuse', prevFile, root]);
  assert.equal(truncated.code, 2);
  assert.equal(truncated.stdout, '');
  assert.equal(truncated.stderr, `cairn-scan: ${prevFile}:2: truncated: the stream has no end record (did the command writing it fail?)\n`);
});

test('--reuse: a PREV line is taken by its text only when it is exactly this scan\'s line; any other PREV still counts by its fields', async () => {
  const root = tempDir();
  for (let i = 0; i < 50; i++) fs.writeFileSync(path.join(root, `f${String(i).padStart(2, '0')}`), `content ${i}`);
  const prevFile = path.join(tempDir(), 'prev.ndjson');
  const first = await run('cairn-scan', ['--hash', 'sha256', root]);
  const planted = 'sha256:' + 'cd'.repeat(32);
  const lines = first.stdout.split('\n');
  const plant = (l: string) => l.replace(/"sha256:[0-9a-f]+"/, `"${planted}"`);
  // Keys reordered (as jq -S writes them) on every file line: no line is this scan's text, yet every hash is reused.
  const sortedKeys = (l: string) => (l.startsWith('{"path"') ? JSON.stringify(Object.fromEntries(Object.entries(JSON.parse(plant(l))).sort())) : l);
  fs.writeFileSync(prevFile, lines.map(sortedKeys).join('\n'));
  const reordered = await run('cairn-scan', ['--hash', 'sha256', '--reuse', prevFile, root]);
  assert.equal(reordered.code, 0, reordered.stderr);
  assert.deepEqual(new Set(records(reordered.stdout).slice(1, -1).map((e) => e.hash)), new Set([planted]));
  // A hash that is not one, in a line otherwise exactly this scan's: refused with its line, never copied out.
  const bad = lines.map((l, i) => (i === 30 ? l.replace(/"sha256:[0-9a-f]{64}"/, `"sha256:${'CD'.repeat(32)}"`) : l));
  fs.writeFileSync(prevFile, bad.join('\n'));
  const refused = await run('cairn-scan', ['--hash', 'sha256', '--reuse', prevFile, root]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, new RegExp(`^cairn-scan: ${prevFile}:31: hash: `));
  assert.ok(!refused.stdout.includes('CDCD'), 'the bad hash was copied to the output');
  // A PREV whose header names no algorithm: its hashes are refused as the reader refuses them, not taken by their text.
  fs.writeFileSync(prevFile, [lines[0]!.replace('"hash":"sha256"', '"hash":null'), ...lines.slice(1)].join('\n'));
  const noAlg = await run('cairn-scan', ['--hash', 'sha256', '--reuse', prevFile, root]);
  assert.equal(noAlg.code, 2);
  assert.match(noAlg.stderr, /:2: hash: the header names no hash algorithm\n$/);
  // Lines out of order are refused even when each is taken by its text.
  const swapped = lines.slice();
  [swapped[10], swapped[11]] = [swapped[11]!, swapped[10]!];
  fs.writeFileSync(prevFile, swapped.join('\n'));
  const unordered = await run('cairn-scan', ['--hash', 'sha256', '--reuse', prevFile, root]);
  assert.equal(unordered.code, 2);
  assert.match(unordered.stderr, /:1[12]: path: (out of canonical order|duplicate)/);
});

test('--reuse over thousands of files with odd names: the hashed scan\'s lines, with or without the addon; changes hashed anew', async () => {
  const root = tempDir();
  const names = ['café', '日本語', 'emoji 😀', 'why?', 'quote "q"', 'back\\slash', 'plain'];
  // Over 1 MiB of PREV: its lines come in several reads and pieces, and runs cross them.
  for (let d = 0; d < 40; d++) {
    const dir = path.join(root, `${names[d % names.length]} ${d}`, d % 3 === 0 ? 'deeper' : '');
    fs.mkdirSync(dir, { recursive: true });
    for (let f = 0; f < 150; f++) fs.writeFileSync(path.join(dir, `${names[f % names.length]} ${f}.txt`), `file ${d}/${f}`);
  }
  const scanned = await run('cairn-scan', ['--hash', 'sha256', root]);
  assert.equal(scanned.code, 0, scanned.stderr);
  assert.ok(scanned.stdout.length > 1 << 20, `PREV is only ${scanned.stdout.length} bytes`);
  const prevFile = path.join(tempDir(), 'prev.ndjson');
  const body = (text: string) => text.slice(text.indexOf('\n') + 1);
  const rescan = async (native: boolean) => {
    const r = await run('cairn-scan', ['--hash', 'sha256', '--reuse', prevFile, root], { env: { ...process.env, CAIRN_NATIVE: native ? '1' : '0' } });
    assert.equal(r.code, 0, r.stderr);
    return r;
  };
  fs.writeFileSync(prevFile, scanned.stdout);
  for (const native of [true, false]) assert.equal(body((await rescan(native)).stdout), body(scanned.stdout), `native: ${native}`);
  // Hashes nobody could compute come back: no file was read.
  const planted = scanned.stdout.replace(/"sha256:[0-9a-f]{64}"/g, `"sha256:${'cd'.repeat(32)}"`);
  fs.writeFileSync(prevFile, planted);
  for (const native of [true, false]) assert.equal(body((await rescan(native)).stdout), body(planted), `native: ${native}`);
  // Changed (same size, new content), gone and new files, here and there: those are hashed, the rest reused.
  const dirs = fs.readdirSync(root).sort();
  for (const [k, d] of dirs.slice(0, 12).entries()) {
    const where = fs.existsSync(path.join(root, d, 'deeper')) ? path.join(root, d, 'deeper') : path.join(root, d);
    const file = path.join(where, fs.readdirSync(where).filter((f) => f.endsWith('.txt')).sort()[k]!);
    if (k % 3 === 0) fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('file', 'FILE'));
    if (k % 3 === 1) fs.rmSync(file);
    if (k % 3 === 2) fs.writeFileSync(path.join(where, `new ${names[k % names.length]}`), 'new');
  }
  const fresh = await run('cairn-scan', ['--hash', 'sha256', root]);
  for (const native of [true, false]) {
    const r = await rescan(native);
    const got = records(r.stdout).slice(1, -1);
    const want = records(fresh.stdout).slice(1, -1);
    assert.equal(got.length, want.length);
    // Directories changed times with their contents; every file's hash is either planted (unchanged) or its content's.
    const changed = got.filter((e, i) => e.type === 'file' && e.hash !== `sha256:${'cd'.repeat(32)}` && e.hash === want[i]!.hash);
    assert.deepEqual(got.map((e) => e.path), want.map((e) => e.path));
    assert.equal(changed.length, 8, `native: ${native}: ${changed.map((e) => e.path).join(', ')}`);
  }
});

test('--reuse after changes is a fresh hashed scan byte for byte, with or without the addon: a changed file, a changed file whose name is no UTF-8, a PREV file line without its hash', async () => {
  const root = tempDir();
  for (let d = 0; d < 6; d++) {
    fs.mkdirSync(path.join(root, `d${d}`));
    for (let f = 0; f < 400; f++) fs.writeFileSync(path.join(root, `d${d}`, `café ${f}`), `file ${d}/${f}`);
  }
  const rawDir = Buffer.from(`${root}/raw\xfe`, 'latin1');
  fs.mkdirSync(rawDir);
  const rawFile = Buffer.concat([rawDir, Buffer.from('/x\xff', 'latin1')]);
  fs.writeFileSync(rawFile, 'raw');
  const scanned = await run('cairn-scan', ['--hash', 'sha256', root]);
  assert.equal(scanned.code, 0, scanned.stderr);
  // One file line of PREV loses its hash and ctime: the re-scan must hash that file, not pass the line on.
  const bare = scanned.stdout.split('\n').map((l) => (l.startsWith('{"path":"d3/café 17"') ? l.replace(/,"hash":"sha256:[0-9a-f]{64}","ctime":"[^"]*"/, '') : l));
  assert.notEqual(bare.join('\n'), scanned.stdout, 'a line lost its hash');
  const prevFile = path.join(tempDir(), 'prev.ndjson');
  fs.writeFileSync(prevFile, bare.join('\n'));
  // Same sizes, new contents.
  fs.writeFileSync(path.join(root, 'd1', 'café 200'), 'FILE 1/200');
  fs.writeFileSync(rawFile, 'RAW');
  const fresh = await run('cairn-scan', ['--hash', 'sha256', root]);
  assert.equal(fresh.code, 0, fresh.stderr);
  const body = (text: string) => text.slice(text.indexOf('\n') + 1);
  assert.ok(body(fresh.stdout).includes('"path_b64"'), 'the raw names are there');
  for (const native of ['1', '0']) {
    const r = await run('cairn-scan', ['--hash', 'sha256', '--reuse', prevFile, root], { env: { ...process.env, CAIRN_NATIVE: native } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(body(r.stdout), body(fresh.stdout), `CAIRN_NATIVE=${native}`);
  }
});

test('--reuse: lines that changed between unchanged ones (symlinks retargeted, files touched) leave the others reused', async () => {
  const root = tempDir();
  for (let g = 0; g < 300; g++) {
    const n = String(g).padStart(3, '0');
    fs.symlinkSync('a', path.join(root, `${n}a`));
    fs.writeFileSync(path.join(root, `${n}b`), `b${g}`);
    fs.writeFileSync(path.join(root, `${n}c`), `c${g}`);
  }
  const scanned = await run('cairn-scan', ['--hash', 'sha256', root]);
  const planted = scanned.stdout.replace(/"sha256:[0-9a-f]{64}"/g, `"sha256:${'ef'.repeat(32)}"`);
  const prevFile = path.join(tempDir(), 'prev.ndjson');
  fs.writeFileSync(prevFile, planted);
  for (let g = 0; g < 300; g++) {
    const n = String(g).padStart(3, '0');
    fs.rmSync(path.join(root, `${n}a`));
    fs.symlinkSync('b', path.join(root, `${n}a`));
    if (g % 7 === 0) fs.writeFileSync(path.join(root, `${n}c`), `C${g}`);
  }
  for (const native of ['1', '0']) {
    const r = await run('cairn-scan', ['--hash', 'sha256', '--reuse', prevFile, root], { env: { ...process.env, CAIRN_NATIVE: native } });
    assert.equal(r.code, 0, r.stderr);
    const recs = records(r.stdout).slice(1, -1);
    assert.equal(recs.length, 900);
    for (const e of recs) {
      const name = String(e.path);
      if (name.endsWith('a')) assert.equal(e.target, 'b', name);
      else if (name.endsWith('c') && Number(name.slice(0, 3)) % 7 === 0) assert.equal(e.hash, `sha256:${createHash('sha256').update(`C${Number(name.slice(0, 3))}`).digest('hex')}`, name);
      else assert.equal(e.hash, `sha256:${'ef'.repeat(32)}`, `native ${native}: ${name} was read again`);
    }
  }
});

test('filters: excluded directories are not entered, includes win, exclude files work', async () => {
  const root = tempDir();
  for (const f of ['src/main.c', 'src/main.o', 'build/out.o', 'build/keep.txt', '.git/HEAD', 'docs/a.md', 'docs/.hidden']) {
    fs.mkdirSync(path.join(root, path.dirname(f)), { recursive: true });
    fs.writeFileSync(path.join(root, f), f);
  }
  const paths = async (...args: string[]) => {
    const r = await run('cairn-scan', [...args, root]);
    assert.equal(r.code, 0, r.stderr);
    return records(r.stdout).slice(1, -1).map((e) => e.path);
  };
  assert.deepEqual(await paths('--exclude', '*.o', '--exclude', '.git/'), ['build', 'build/keep.txt', 'docs', 'docs/.hidden', 'docs/a.md', 'src', 'src/main.c']);
  assert.deepEqual(await paths('--exclude', '/build'), ['.git', '.git/HEAD', 'docs', 'docs/.hidden', 'docs/a.md', 'src', 'src/main.c', 'src/main.o']);
  assert.deepEqual(await paths('--exclude', '*', '--include', '*/', '--include', '*.md'), ['.git', 'build', 'docs', 'docs/a.md', 'src']);
  assert.deepEqual(await paths('--exclude-regex', '\\.(o|c)$', '--include-regex', '^src/'), ['.git', '.git/HEAD', 'build', 'build/keep.txt', 'docs', 'docs/.hidden', 'docs/a.md', 'src', 'src/main.c', 'src/main.o']);
  const rules = path.join(tempDir(), 'rules');
  fs.writeFileSync(rules, '# objects\n*.o\n!out.o\n.*\n');
  assert.deepEqual(await paths('--exclude-from', rules), ['build', 'build/keep.txt', 'build/out.o', 'docs', 'docs/a.md', 'src', 'src/main.c']);
  const header = records((await run('cairn-scan', ['--exclude-from', rules, '--exclude', 'x', root])).stdout)[0]!;
  assert.deepEqual(header.filters, [{ exclude: '*.o' }, { include: 'out.o' }, { exclude: '.*' }, { exclude: 'x' }]);
});

test('--follow enters linked directories, keeps dangling links, and stops at cycles', async () => {
  const root = tempDir();
  fs.mkdirSync(path.join(root, 'real'));
  fs.writeFileSync(path.join(root, 'real', 'f'), 'x');
  fs.symlinkSync('real', path.join(root, 'via'));
  fs.symlinkSync('..', path.join(root, 'real', 'up'));
  fs.symlinkSync('missing', path.join(root, 'broken'));
  fs.symlinkSync('real/f/x', path.join(root, 'through-a-file')); // ENOTDIR, not ENOENT
  const r = await run('cairn-scan', ['--follow', root]);
  assert.equal(r.code, 1);
  const entries = records(r.stdout).slice(1, -1);
  assert.deepEqual(entries.map((e) => [e.path, e.type, e.error]), [
    ['broken', 'symlink', undefined],
    ['real', 'dir', undefined],
    ['real/f', 'file', undefined],
    ['real/up', 'dir', 'ELOOP: directory cycle through a symlink'],
    ['through-a-file', 'symlink', undefined],
    ['via', 'dir', undefined],
    ['via/f', 'file', undefined],
    ['via/up', 'dir', 'ELOOP: directory cycle through a symlink'],
  ]);
});

test('--one-file-system lists a mount point but does not enter it', async (t) => {
  const root = tempDir();
  fs.mkdirSync(path.join(root, 'mnt'));
  fs.writeFileSync(path.join(root, 'f'), '');
  const mounted = sh(`mount -t tmpfs cairn-test ${root}/mnt && touch ${root}/mnt/inside`);
  if (mounted.code !== 0) {
    t.skip(`cannot mount a tmpfs here (${mounted.stderr.trim() || 'not root'})`);
    return;
  }
  try {
    const all = records((await run('cairn-scan', [root])).stdout).slice(1, -1).map((e) => e.path);
    assert.deepEqual(all, ['f', 'mnt', 'mnt/inside']);
    const r = await run('cairn-scan', ['-x', root]);
    assert.equal(r.code, 0, r.stderr);
    const recs = records(r.stdout);
    assert.deepEqual(recs.slice(1, -1).map((e) => [e.path, e.unscanned]), [['f', undefined], ['mnt', 'mount point (--one-file-system)']]);
    assert.equal((recs[0]!.options as { one_file_system: boolean }).one_file_system, true);
  } finally {
    sh(`umount ${root}/mnt`);
  }
});

test('an unreadable directory becomes an entry with error; the scan goes on and exits 1', async (t) => {
  if (!isRoot) {
    t.skip('needs root to run the scan as the unprivileged user nobody');
    return;
  }
  const root = tempDir();
  for (const d of ['closed', 'listonly', 'open']) fs.mkdirSync(path.join(root, d));
  fs.writeFileSync(path.join(root, 'closed', 'secret'), 's');
  fs.writeFileSync(path.join(root, 'listonly', 'secret'), 's');
  fs.writeFileSync(path.join(root, 'open', 'f'), 'f');
  fs.chmodSync(path.join(root, 'closed'), 0o700);
  fs.chmodSync(path.join(root, 'listonly'), 0o744); // names readable, objects not reachable
  const asNobody = { uid: 65534, gid: 65534 };
  const r = await run('cairn-scan', [root], asNobody);
  assert.equal(r.code, 1, r.stderr);
  const recs = records(r.stdout);
  assert.deepEqual(recs.slice(1, -1).map((e) => [e.path, e.error]), [
    ['closed', 'EACCES: permission denied'],
    ['listonly', 'EACCES: permission denied'],
    ['open', undefined],
    ['open/f', undefined],
  ]);
  assert.deepEqual(recs[recs.length - 1], { cairn: 'end' });
  // Excluded, it is never entered, so it is no problem at all.
  const excluded = await run('cairn-scan', ['--exclude', 'closed', '--exclude', 'listonly', root], asNobody);
  assert.equal(excluded.code, 0, excluded.stderr);
  // An unreadable file is reported when hashing, the rest is hashed.
  fs.chmodSync(path.join(root, 'open'), 0o755);
  fs.writeFileSync(path.join(root, 'open', 'g'), 'g', { mode: 0o600 });
  const hashed = await run('cairn-scan', ['--hash', 'sha256', '--exclude', 'closed', '--exclude', 'listonly', root], asNobody);
  assert.equal(hashed.code, 1);
  const files = records(hashed.stdout).slice(1, -1).filter((e) => e.type === 'file');
  assert.deepEqual(files.map((e) => [e.path, e.error, typeof e.hash]), [['open/f', undefined, 'string'], ['open/g', 'EACCES: permission denied', 'undefined']]);
});

test('a missing or unreadable ROOT: one line, exit 3, nothing on stdout', async () => {
  const missing = await run('cairn-scan', ['/nonexistent/cairn']);
  assert.deepEqual([missing.code, missing.stdout, missing.stderr], [3, '', 'cairn-scan: /nonexistent/cairn: ENOENT: no such file or directory\n']);
  const file = path.join(tempDir(), 'f');
  fs.writeFileSync(file, '');
  const notDir = await run('cairn-scan', [file]);
  assert.deepEqual([notDir.code, notDir.stdout, notDir.stderr], [3, '', `cairn-scan: ${file}: ENOTDIR: not a directory\n`]);
});

test('usage errors: one line, exit 2, nothing on stdout', async () => {
  const cases: Array<[string[], string]> = [
    [['--exlude', 'x', '.'], 'cairn-scan: --exlude: unknown option (did you mean --exclude?)\n'],
    [['--hash'], 'cairn-scan: --hash: option needs a value\n'],
    [['--hash', 'crc32', '.'], 'cairn-scan: --hash crc32: unknown algorithm (use sha256, blake3, sha1, md5)\n'],
    [[], 'cairn-scan: missing ROOT (see --help)\n'],
    [['a', 'b'], 'cairn-scan: one ROOT only, got 2\n'],
    [['--exclude-regex', '(', '.'], 'cairn-scan: --exclude-regex: bad regular expression: Invalid regular expression: /(/u: Unterminated group\n'],
    [['--caps', 'perms=maybe', '.'], 'cairn-scan: --caps: perms: must be true or false\n'],
    [['--newer-than', '2024-01-01', '.'], 'cairn-scan: --newer-than: not a scan option (a filtered scan looks like deletions downstream); use cairn-plan --newer-than\n'],
    [['--exclude-from', '/nonexistent', '.'], 'cairn-scan: --exclude-from /nonexistent: ENOENT: no such file or directory\n'],
    [['--exclude', '', '.'], 'cairn-scan: --exclude: empty pattern\n'],
    [[''], 'cairn-scan: ROOT: empty\n'],
    [['--caps=', '.'], 'cairn-scan: --caps: "" is not key=value\n'],
    [['--reuse', '', '--hash', 'md5', '.'], 'cairn-scan: --reuse: empty file name\n'],
    [['--reuse', '/', '--hash', 'md5', '.'], 'cairn-scan: /: EISDIR: is a directory\n'],
    [['--caps', 'toString=true', '.'], 'cairn-scan: --caps: unknown capability "toString" (known: mtime_precision_ns, perms, owners, symlinks, hardlinks, case_sensitive, unicode_normalizes, fs)\n'],
    [['--caps', 'perms=true=false', '.'], 'cairn-scan: --caps: "perms=true=false" is not key=value\n'],
    [['--reuse', '-', '--exclude-from', '-', '--hash', 'md5', '.'], 'cairn-scan: -: only one of --reuse and --exclude-from can read stdin\n'],
  ];
  for (const [args, err] of cases) {
    const r = await run('cairn-scan', args);
    assert.deepEqual([r.code, r.stdout, r.stderr], [2, '', err], args.join(' '));
  }
});

test('output that cannot be written is an error even for --version (exit 3, not 0)', () => {
  const r = sh('bin/cairn-scan --version > /dev/full; echo "status=$?"');
  assert.equal(r.stdout, 'status=3\n');
  assert.equal(r.stderr, 'cairn-scan: stdout: ENOSPC: no space left on device\n');
});

test('--help and --version', async () => {
  const v = await run('cairn-scan', ['--version']);
  assert.equal(v.code, 0);
  assert.match(v.stdout, /^cairn-scan \(cairn\) \d+\.\d+\.\d+\n$/);
  const h = await run('cairn-scan', ['--help']);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /^usage: cairn-scan \[OPTIONS\] ROOT\n/);
  for (const flag of ['--hash', '--reuse', '--follow', '--one-file-system', '--exclude', '--include', '--exclude-from', '--caps', '--progress', '--help', '--version']) {
    assert.ok(h.stdout.includes(flag), flag);
  }
});

test('cairn-scan | head -1 exits 0 with nothing on stderr (EPIPE)', () => {
  const root = tempDir();
  makeWideTree(root, 20000);
  const r = sh(`set -o pipefail; bin/cairn-scan ${root} | head -1 >/dev/null; echo "status=\${PIPESTATUS[0]}"`);
  assert.equal(r.stderr, '');
  assert.equal(r.stdout, 'status=0\n');
});

test('SIGINT: exit 130, output ends on a whole line, and without the end record, with or without threads', async () => {
  const root = tempDir();
  makeWideTree(root, 60000);
  for (const threads of ['0', '2']) await interrupt(root, threads);
});

async function interrupt(root: string, threads: string): Promise<void> {
  const child = spawn(path.join(__dirname, '..', '..', '..', 'bin', 'cairn-scan'), ['--threads', threads, root], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let sent = false;
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (!sent) {
      sent = true;
      child.kill('SIGINT');
    }
  });
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  assert.equal(code, 130);
  assert.equal(err, '');
  const recs = records(out);
  assert.ok(recs.length > 1 && recs.length < 60000 + 60, `${recs.length} records`);
  assert.notDeepEqual(recs[recs.length - 1], { cairn: 'end' });
}

test('--progress reports on stderr and leaves stdout alone', async () => {
  const root = tempDir();
  makeWideTree(root, 3000);
  const plain = await run('cairn-scan', [root]);
  const withProgress = await run('cairn-scan', ['--progress', root]);
  assert.match(withProgress.stderr, /^cairn-scan: 3015 files, [\d.]+ \w+, .*\n$/m);
  const strip = (s: string) => s.replace(/"created":"[^"]+"/, '');
  assert.equal(strip(withProgress.stdout), strip(plain.stdout));
});

test('a path longer than PATH_MAX still appears, with its error, so nothing downstream takes it for deleted', async () => {
  const root = tempDir();
  const seg = 'd'.repeat(250);
  // bash cd's relative steps can build what one absolute path cannot name.
  const made = sh(`cd ${root} && for i in $(seq 1 17); do mkdir ${seg} && cd ${seg} || exit 1; done && touch f && mkdir sub`);
  assert.equal(made.code, 0, made.stderr);
  const r = await run('cairn-scan', [root]);
  assert.equal(r.code, 1);
  const entries = records(r.stdout).slice(1, -1);
  assert.deepEqual(records(r.stdout).at(-1), { cairn: 'end' });
  const failed = entries.filter((e) => e.error !== undefined);
  assert.ok(failed.length > 0, 'no entry carries the error');
  for (const e of failed) assert.match(e.error as string, /^ENAMETOOLONG: /);
  const deepest = entries.at(-1)!;
  assert.ok(deepest.error !== undefined && (deepest.type === 'dir' || deepest.mtime === undefined), JSON.stringify(deepest).slice(-200));
  assert.match(r.stderr, /ENAMETOOLONG/);
  // The stream is valid input for the next command.
  const prev = path.join(tempDir(), 'prev');
  fs.writeFileSync(prev, (await run('cairn-scan', ['--hash', 'md5', root])).stdout);
  const again = await run('cairn-scan', ['--hash', 'md5', '--reuse', prev, root]);
  assert.equal(again.code, 1);
  assert.doesNotMatch(again.stderr, new RegExp(`${prev}:`));
});

test('--no-progress keeps a terminal quiet; --progress reports into a pipe', async () => {
  const root = tempDir();
  fs.writeFileSync(path.join(root, 'f'), 'x');
  const quiet = sh(`script -qec "bin/cairn-scan --no-progress ${root} >/dev/null" /dev/null`);
  if (quiet.code === 0) assert.equal(quiet.stdout.replace(/\r?\n$/, ''), '');
  const loud = sh(`script -qec "bin/cairn-scan ${root} >/dev/null" /dev/null`);
  if (loud.code === 0) assert.match(loud.stdout, /cairn-scan: 1 files/);
});

test('cairn dispatches to the commands and lists them', async () => {
  const root = tempDir();
  fs.writeFileSync(path.join(root, 'f'), 'x');
  const strip = (s: string) => s.replace(/"created":"[^"]+"/, '');
  const viaCairn = await run('cairn', ['scan', '--hash', 'md5', root]);
  const direct = await run('cairn-scan', ['--hash', 'md5', root]);
  assert.equal(viaCairn.code, 0);
  assert.equal(strip(viaCairn.stdout), strip(direct.stdout));
  const help = await run('cairn', ['help']);
  assert.match(help.stdout, /^ {2}scan +walk a tree and write its entries stream$/m);
  const helpScan = await run('cairn', ['help', 'scan']);
  assert.match(helpScan.stdout, /^usage: cairn-scan/);
  const bad = await run('cairn', ['sacn']);
  assert.deepEqual([bad.code, bad.stderr], [2, 'cairn: sacn: unknown command (did you mean scan?); try cairn help\n']);
});
