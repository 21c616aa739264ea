import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { ADDON_PATH, dirStat, type DirStat } from '../../lib/tree/local/native';
import { run, tempDir } from '../helpers/run';
import { makeSocket, makeWideTree } from '../helpers/tree';

const isRoot = process.getuid?.() === 0;
/** Output without the creation time, which differs from run to run. */
const stable = (s: string) => s.replace(/"created":"[^"]+"/, '');

test('the compiled lister is built by make and loads (else every scan silently takes the slow path)', () => {
  assert.ok(fs.existsSync(ADDON_PATH), `${ADDON_PATH} is missing: make did not build native/`);
  assert.ok(dirStat !== undefined, 'dist/lib/native/cairn.node did not load');
});

/** Every kind of object and name the walk meets, in directories big and small. */
function awkwardTree(): string {
  const root = tempDir('cairn-native-');
  makeWideTree(path.join(root, 'wide'), 3000, 150);
  const huge = path.join(root, 'huge'); // over 256 KiB of directory: listed when needed, a batch at a time
  fs.mkdirSync(huge);
  for (let i = 0; i < 9000; i++) fs.writeFileSync(path.join(huge, `a-rather-long-file-name-to-grow-the-directory-${i}`), '');
  // Names whose order differs between bytes and naive string order, and odd bytes.
  for (const n of ['a', 'a b', 'a.b', 'a-b', 'A', 'é', 'z\u{1F600}', '\uFFFD', 'line\nbreak', 'eq=back\\slash', ' lead']) fs.writeFileSync(path.join(root, n), n);
  fs.mkdirSync(path.join(root, 'a0'));
  fs.writeFileSync(path.join(root, 'a0', 'inside'), 'x');
  const rawDir = Buffer.concat([Buffer.from(`${root}/`), Buffer.from([0x72, 0xe9, 0x73])]);
  fs.mkdirSync(rawDir);
  fs.writeFileSync(Buffer.concat([rawDir, Buffer.from('/'), Buffer.from([0xff, 0x41])]), 'raw');
  fs.writeFileSync(Buffer.concat([rawDir, Buffer.from('/plain')]), 'plain');
  fs.symlinkSync('wide', path.join(root, 'to-wide'));
  fs.symlinkSync('nowhere', path.join(root, 'dangling'));
  fs.symlinkSync('.', path.join(root, 'wide', 'loop'));
  fs.linkSync(path.join(root, 'a'), path.join(root, 'hard-a'));
  execFileSync('mkfifo', [path.join(root, 'fifo')]);
  makeSocket(path.join(root, 'sock'));
  if (isRoot) execFileSync('mknod', [path.join(root, 'null-dev'), 'c', '1', '3']);
  fs.mkdirSync(path.join(root, 'empty'));
  return root;
}

test('the compiled lister changes nothing: the same bytes as Node calls, for every option that changes the walk', async () => {
  const root = awkwardTree();
  const optionSets = [[], ['--exclude', '*7*'], ['--follow'], ['--one-file-system'], ['--hash', 'md5'], ['--threads', '2'], ['--include', 'wide/**', '--exclude', '*']];
  for (const opts of optionSets) {
    const [native, node] = await Promise.all([run('cairn-scan', [...opts, root]), run('cairn-scan', [...opts, root], { env: { ...process.env, CAIRN_NATIVE: '0' } })]);
    assert.equal(native.code, node.code, `${opts.join(' ')}: ${native.stderr} / ${node.stderr}`);
    assert.equal(native.stderr, node.stderr, opts.join(' '));
    assert.equal(stable(native.stdout), stable(node.stdout), `scan ${opts.join(' ')}`);
    assert.ok(native.stdout.split('\n').length > 3000, `${opts.join(' ')}: the tree was walked`);
  }
});

test('a name whose whole path is longer than PATH_MAX: the same ENAMETOOLONG entries from both listers', async () => {
  const root = tempDir('cairn-native-');
  const part = 'p'.repeat(250);
  // Made step by step, relative to the last directory: an absolute path that long cannot be passed to mkdir.
  execFileSync('sh', ['-c', `cd "$1" && for i in $(seq 16); do mkdir ${part} && cd ${part}; done && echo x > ${'f'.repeat(250)} && ln -s x ${'l'.repeat(250)} && mkdir ${'d'.repeat(250)} && echo y > short`, 'sh', root]);
  for (const opts of [[], ['--hash', 'md5']]) {
    const [native, node] = await Promise.all([run('cairn-scan', [...opts, root]), run('cairn-scan', [...opts, root], { env: { ...process.env, CAIRN_NATIVE: '0' } })]);
    assert.equal(native.code, node.code, opts.join(' '));
    assert.equal(native.stderr, node.stderr, opts.join(' '));
    assert.equal(stable(native.stdout), stable(node.stdout), opts.join(' '));
    assert.match(native.stdout, /"error":"ENAMETOOLONG: name too long"/);
  }
});

test('errors come out as Node gives them: directories that cannot be searched or read', async (t) => {
  if (!isRoot) {
    t.skip('needs root to run the scan as the unprivileged user nobody');
    return;
  }
  const root = tempDir('cairn-native-');
  fs.chmodSync(root, 0o755);
  for (const d of ['closed', 'listonly', 'open']) fs.mkdirSync(path.join(root, d));
  fs.writeFileSync(path.join(root, 'listonly', 'secret'), 's');
  fs.chmodSync(path.join(root, 'closed'), 0o700);
  fs.chmodSync(path.join(root, 'listonly'), 0o744);
  const asNobody = { uid: 65534, gid: 65534 };
  const native = await run('cairn-scan', [root], asNobody);
  const node = await run('cairn-scan', [root], { ...asNobody, env: { ...process.env, CAIRN_NATIVE: '0' } });
  assert.equal(native.code, 1);
  assert.equal(stable(native.stdout), stable(node.stdout));
  assert.equal(native.stderr, node.stderr);
  assert.match(native.stdout, /"path":"listonly","type":"dir".*"error":"EACCES: permission denied"/);
});

test('the addon itself: sorted listings, errno for a missing directory, bad arguments refused, a helper that lists what it is asked', () => {
  const d = dirStat as DirStat;
  const dir = tempDir('cairn-native-');
  for (const n of ['b', 'a', 'ab', 'a b']) fs.writeFileSync(path.join(dir, n), n);
  fs.mkdirSync(path.join(dir, 'sub'));
  const listed = d.listNames(dir);
  assert.ok(Array.isArray(listed));
  const [buf, ends, types, allUtf8] = listed;
  assert.equal(buf.toString('latin1'), 'a\0a b\0ab\0b\0sub\0');
  assert.deepEqual([...ends], [2, 6, 9, 11, 15]);
  assert.deepEqual([...types], [8, 8, 8, 8, 4]);
  assert.equal(allUtf8, true);
  assert.equal(d.listNames(path.join(dir, 'missing')), 2); // ENOENT
  assert.equal(d.listNames(path.join(dir, 'a')), 20); // ENOTDIR
  const stats = d.statAt(dir, buf, ends, 1, 3, false) as Float64Array;
  assert.equal(stats.length, 2 * d.STRIDE);
  assert.equal(stats[d.STRIDE + 6], 2); // size of 'ab'
  assert.throws(() => d.statAt(dir, buf, new Uint32Array([2, 99]), 0, 2, false), /names not as listNames gave them/);
  assert.throws(() => d.statAt(dir, buf, ends, 0, 9, false), /range outside the names/);
  assert.throws(() => d.listNames(Buffer.from('a\0b')), /bad path/);

  for (const descend of [false, true]) {
    const h = d.openAhead(false, descend, 256 << 10);
    d.request(h, 7, dir);
    d.request(h, 8, path.join(dir, 'missing'));
    d.request(h, 9, path.join(dir, 'sub'));
    const got = d.take(h, 7);
    assert.ok(Array.isArray(got));
    assert.equal(got[0].toString('latin1'), buf.toString('latin1'));
    assert.equal(got[4][1], fs.lstatSync(path.join(dir, 'a')).mode); // mode of the first name
    assert.equal(`${got[5]}:${got[6]}`, `${fs.statSync(dir).dev}:${fs.statSync(dir).ino}`);
    assert.equal(d.take(h, 8), 2);
    assert.throws(() => d.take(h, 7), /no such request/);
    d.closeAhead(h); // request 9 never taken: dropped
    d.closeAhead(h);
    assert.throws(() => d.take(h, 9), /no open handle/);
  }
});
