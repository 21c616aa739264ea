import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test, type TestContext } from 'node:test';
import { isRoot, tempDir } from '../helpers/run';
import { freshDir } from '../helpers/archive';
import { check, destView, newBox as sandboxIn, restoreIn, tarIn, type Box, type Line, type Want } from '../helpers/sandbox';
import { bash, q } from '../helpers/sync';
import { forgeMember, forgeTar, type ForgeMember } from '../helpers/tar-forge';

/*
 * Regression tests for the fixes of restore review 6 (findings 1-7, 10-12,
 * 15), with the real executables. Each case restores into a fresh DIR
 * (`dest`) inside its own sandbox; the sandbox but DIR is snapshotted
 * around the run and must not change. Exit status, stderr lines, results
 * records and what DIR holds are asserted exactly.
 */

const TMP = tempDir('cairn-restore-review-');

function newBox(label: string, destName = 'dest'): Box {
  return sandboxIn(TMP, label, destName);
}

async function attack(label: string, members: ForgeMember[], want: Want, extra: string[] = [], setup?: (b: Box) => void): Promise<Box> {
  const b = newBox(label);
  setup?.(b);
  const tar = tarIn(b, 'in.tar', forgeTar(members));
  check(await restoreIn(b, ['--tar', tar, ...extra]), tar, want, b.dest);
  return b;
}

/** A volume descriptor as cairn-pack writes it (header, records, end), for the tar's .cairn/vol-0001.ndjson. */
function descriptor(recs: Record<string, unknown>[], hash = 'sha256'): string {
  const head = {
    cairn: 'volume', version: 1, volume: 1, created: '2020-09-13T12:26:40.000Z', medium_size: 1000000, format: 'tar', label: 'CAIRN_0001',
    root: '/src', hash, caps: { mtime_precision_ns: 1, perms: true, owners: true, symlinks: true, hardlinks: true, case_sensitive: true, unicode_normalizes: false, fs: 'ext4' },
    discards: [], tool: 'cairn-pack 0.1.0',
  };
  return [head, ...recs, { cairn: 'end' }].map((r) => JSON.stringify(r)).join('\n') + '\n';
}

const MT = '2020-09-13T12:26:40Z';
const sha = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;

const SKIP_FIFO = 'skipped: a fifo from a tar not made by cairn (--specials restores it)';
const SKIP_DEV = 'skipped: a device node from a tar not made by cairn (--specials restores it)';

test('1: fifos and devices are trusted without --specials only when the volume\'s own descriptor lists them', async (t: TestContext) => {
  await t.test('a dummy .cairn/x first member vouches for nothing: fifo, block and char device skipped', async () => {
    await attack('dummy-cairn', [
      { name: '.cairn/x', data: 'hi' },
      { name: 'sda', type: 'block', major: 8, minor: 0, mode: 0o666 },
      { name: 'mem', type: 'char', major: 1, minor: 1, mode: 0o666 },
      { name: 'p', type: 'fifo' },
      { name: 'f', data: 'ok' },
    ], {
      code: 1,
      results: [['sda', 'skipped'], ['mem', 'skipped'], ['p', 'skipped'], ['f', 'done']],
      lines: [['sda', SKIP_DEV], ['mem', SKIP_DEV], ['p', SKIP_FIFO]],
      dest: { f: 'file:ok' },
    });
  });
  await t.test('a real descriptor: what it lists at that path with that type is made; the rest skipped', async () => {
    const desc = descriptor([
      { path: 'listed', type: 'fifo', mtime: MT, mode: '0644', uid: 0, gid: 0 },
      { path: 'null', type: 'char', mtime: MT, mode: '0666', uid: 0, gid: 0, rdev: 259 },
      { path: 'wrongtype', type: 'fifo', mtime: MT, mode: '0644', uid: 0, gid: 0 },
      { path: 'f', type: 'file', size: 2, mtime: MT, mode: '0644', uid: 0, gid: 0, hash: sha('ok') },
    ]);
    const members: ForgeMember[] = [
      { name: '.cairn/', type: 'dir' },
      { name: '.cairn/vol-0001.ndjson', data: desc },
      { name: 'f', data: 'ok' },
      { name: 'listed', type: 'fifo' },
      { name: 'unlisted', type: 'fifo' },
      { name: 'null', type: 'char', major: 1, minor: 3, mode: 0o666 },
      { name: 'wrongtype', type: 'char', major: 1, minor: 1, mode: 0o666 },
      { name: 'sda', type: 'block', major: 8, minor: 0, mode: 0o666 },
    ];
    const dest: Record<string, string> = { f: 'file:ok', listed: 'fifo' };
    if (isRoot) dest.null = 'char:1,3';
    await attack('real-descriptor', members, {
      code: 1,
      results: [['f', 'done'], ['listed', 'done'], ['unlisted', 'skipped'], ['null', isRoot ? 'done' : 'skipped'], ['wrongtype', 'skipped'], ['sda', 'skipped']],
      lines: [['unlisted', SKIP_FIFO], ...(isRoot ? [] : [['null', 'skipped: device nodes are made by root only'] as Line]), ['wrongtype', SKIP_DEV], ['sda', SKIP_DEV]],
      dest,
    });
  });
});

const CLIMB = 'a link target that climbs out of something not (yet) a directory (it could lead outside the destination)';

test('2: a symlink climbing out of a name that is not (yet) a real directory is refused, whatever comes later', async (t: TestContext) => {
  await t.test('l -> x/../etc-outside, then x -> .', async () => {
    await attack('climb-first', [
      { name: 'l', type: 'symlink', linkname: 'x/../etc-outside' },
      { name: 'x', type: 'symlink', linkname: '.' },
    ], { code: 1, results: [['l', 'failed'], ['x', 'done']], lines: [['l', CLIMB]], dest: { x: 'link:.' } });
  });
  await t.test('l -> a/b/c/x/../../../../etc/passwd, then a/b/c/x -> ../../..', async () => {
    await attack('climb-deep', [
      { name: 'a/b/c', type: 'dir' },
      { name: 'l', type: 'symlink', linkname: 'a/b/c/x/../../../../etc/passwd' },
      { name: 'a/b/c/x', type: 'symlink', linkname: '../../..' },
    ], {
      code: 1,
      results: [['a/b/c', 'done'], ['l', 'failed'], ['a/b/c/x', 'done']],
      lines: [['l', CLIMB]],
      dest: { a: 'dir', 'a/b': 'dir', 'a/b/c': 'dir', 'a/b/c/x': 'link:../../..' },
    });
  });
  await t.test('climbing out of a directory already made is still fine: d/../f', async () => {
    await attack('climb-real-dir', [
      { name: 'd', type: 'dir' },
      { name: 'f', data: 'F' },
      { name: 'u', type: 'symlink', linkname: 'd/../f' },
    ], { code: 0, results: [['d', 'done'], ['f', 'done'], ['u', 'done']], lines: [], dest: { d: 'dir', f: 'file:F', u: 'link:d/../f' } });
  });
});

test('3: fifos under names that are not UTF-8 are refused, and none is made elsewhere; non-ASCII ones are made where they belong', async (t: TestContext) => {
  await t.test('a fifo named f\\xff (--specials): failed, nothing made', async () => {
    const b = newBox('fifo-latin1');
    const tar = tarIn(b, 'in.tar', forgeTar([{ name: Buffer.from('f\xff', 'latin1'), type: 'fifo' }, { name: 'z', data: 'Z' }]));
    const o = await restoreIn(b, ['--specials', '--tar', tar]);
    assert.equal(o.code, 1, o.stderr);
    assert.equal(o.results.length, 2, o.stdout);
    assert.equal(o.results[0]!.status, 'failed');
    assert.equal(o.results[0]!.path_b64, Buffer.from('f\xff', 'latin1').toString('base64'));
    assert.match(String(o.results[0]!.error), /^a fifo or device under a name that is not UTF-8 cannot be made/);
    assert.deepEqual([o.results[1]!.path, o.results[1]!.status], ['z', 'done']);
    const lines = o.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, o.stderr);
    assert.ok(lines[0]!.startsWith(`cairn-restore: ${tar}: `) && lines[0]!.includes('a fifo or device under a name that is not UTF-8 cannot be made'), lines[0]);
    assert.deepEqual(destView(b.dest), { z: 'file:Z' });
  });
  await t.test('DIR named dé beside dÃ© (its mojibake): fifo and é/f2 made in DIR, nothing in dÃ©', async () => {
    const b = newBox('fifo-nonascii', 'dé');
    fs.mkdirSync(path.join(b.box, 'dÃ©'));
    const tar = tarIn(b, 'in.tar', forgeTar([{ name: 'fifo', type: 'fifo' }, { name: 'é/f2', type: 'fifo' }]));
    check(await restoreIn(b, ['--specials', '--tar', tar]), tar, {
      code: 0, results: [['fifo', 'done'], ['é/f2', 'done']], lines: [], dest: { fifo: 'fifo', 'é': 'dir', 'é/f2': 'fifo' },
    }, b.dest);
    assert.deepEqual(fs.readdirSync(path.join(b.box, 'dÃ©')), []);
  });
});

/** A pax global header ('g') with `n` distinct records. */
function globalHeader(n: number): Buffer {
  const pax: [string, string][] = [];
  for (let i = 0; i < n; i++) pax.push([`comment.k${i}`, 'v']);
  const m = forgeMember({ name: 'g', pax });
  const h = Buffer.from(m.subarray(0, m.length - 512));
  h.write('g', 156, 'latin1');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of h.subarray(0, 512)) sum += byte;
  h.write(sum.toString(8).padStart(6, '0'), 148, 'latin1');
  h[154] = 0;
  h[155] = 0x20;
  return h;
}

test('4: more than 256 global pax records stop the archive (a failed record, exit 1); 256 are fine', async (t: TestContext) => {
  await t.test('256', async () => {
    const b = newBox('glob-256');
    const tar = tarIn(b, 'in.tar', Buffer.concat([forgeMember({ name: 'a', data: 'A' }), globalHeader(256), forgeTar([{ name: 'b', data: 'B' }])]));
    check(await restoreIn(b, ['--tar', tar]), tar, { code: 0, results: [['a', 'done'], ['b', 'done']], lines: [], dest: { a: 'file:A', b: 'file:B' } }, b.dest);
  });
  await t.test('257', async () => {
    const b = newBox('glob-257');
    const tar = tarIn(b, 'in.tar', Buffer.concat([forgeMember({ name: 'a', data: 'A' }), globalHeader(257), forgeTar([{ name: 'b', data: 'B' }])]));
    const o = await restoreIn(b, ['--tar', tar]);
    assert.equal(o.code, 1, o.stderr);
    assert.deepEqual([o.results[0]!.path, o.results[0]!.status], ['a', 'done']);
    assert.equal(o.results.length, 2, o.stdout);
    assert.equal(o.results[1]!.status, 'failed');
    assert.match(String(o.results[1]!.error), /more than 256 global pax records: not a real archive/);
    const lines = o.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, o.stderr);
    assert.match(lines[0]!, /more than 256 global pax records: not a real archive/);
    assert.ok(lines[0]!.startsWith(`cairn-restore: ${tar}: `), lines[0]);
    assert.deepEqual(destView(b.dest), { a: 'file:A' });
  });
});

test('5: deep long names (1023 components of 63 bytes) take no memory to speak of: 40 of them under a 160 MB heap', async () => {
  const b = newBox('deep-long');
  const members: ForgeMember[] = [];
  const names: string[] = [];
  for (let i = 0; i < 40; i++) {
    const comps = [`${String(i).padStart(2, '0')}${'x'.repeat(61)}`];
    for (let j = 1; j < 1023; j++) comps.push('y'.repeat(63));
    const name = comps.join('/');
    names.push(name);
    members.push({ name, data: 'd' });
  }
  members.push({ name: 'z', data: 'Z' });
  const tar = tarIn(b, 'in.tar', forgeTar(members));
  const o = await restoreIn(b, ['--tar', tar], { env: { NODE_OPTIONS: '--max-old-space-size=160' } });
  assert.equal(o.code, 1, o.stderr.slice(0, 2000));
  assert.equal(o.results.length, 41, o.stdout.slice(0, 2000));
  o.results.slice(0, 40).forEach((r, i) => {
    assert.equal(r.path, names[i]);
    assert.equal(r.status, 'failed');
    assert.match(String(r.error), /ENAMETOOLONG/);
  });
  assert.deepEqual([o.results[40]!.path, o.results[40]!.status], ['z', 'done']);
  assert.equal(o.stderr.trimEnd().split('\n').length, 40);
  assert.equal(fs.readFileSync(path.join(b.dest, 'z'), 'utf8'), 'Z');
  // no file made for any long name, no temp left
  assert.equal(bash(`find ${q(b.dest)} -type f | wc -l`).stdout.trim(), '1');
});

test('6: a name the file system refuses (a 300-byte component) fails that object only; the run goes on, exit 1', async () => {
  const n = `n${'0'.repeat(299)}`;
  await attack('name-too-long', [{ name: 'a', data: '1' }, { name: n, data: '2' }, { name: 'z', data: '3' }], {
    code: 1,
    results: [['a', 'done'], [n, 'failed'], ['z', 'done']],
    lines: [[n, /ENAMETOOLONG/]],
    dest: { a: 'file:1', z: 'file:3' },
  });
});

test('7: an unknown hash algorithm in a volume\'s own descriptor is ignored, no crash', async () => {
  const desc = descriptor([
    { path: 'a', type: 'file', size: 2, mtime: MT, mode: '0644', uid: 0, gid: 0, hash: 'nope' },
    { path: 'b', type: 'file', size: 2, mtime: MT, mode: '0644', uid: 0, gid: 0, hash: 'whirlpool:00' },
  ]);
  await attack('bad-alg', [
    { name: '.cairn/', type: 'dir' },
    { name: '.cairn/vol-0001.ndjson', data: desc },
    { name: 'first', data: 'F' },
    { name: 'a', data: 'aa' },
    { name: 'b', data: 'bb' },
    { name: 'c', data: 'C' },
  ], {
    code: 0,
    results: [['first', 'done'], ['a', 'done'], ['b', 'done'], ['c', 'done']],
    lines: [],
    dest: { first: 'file:F', a: 'file:aa', b: 'file:bb', c: 'file:C' },
  });
});

test('10: an existing directory keeps its mode, owner and time unless --overwrite always', async (t: TestContext) => {
  const prep = (b: Box) => {
    const priv = path.join(b.dest, 'priv');
    fs.mkdirSync(priv);
    fs.writeFileSync(path.join(priv, 's'), 'secret');
    fs.chmodSync(priv, 0o700);
    if (isRoot) fs.chownSync(priv, 1234, 1234);
    fs.utimesSync(priv, 1_000_000_000, 1_000_000_000);
  };
  const attrs = (b: Box) => {
    const st = fs.lstatSync(path.join(b.dest, 'priv'));
    return `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${Math.floor(st.mtimeMs / 1000)}`;
  };
  const members: ForgeMember[] = [{ name: 'priv', type: 'dir', mode: 0o777, uid: 0, gid: 0, mtime: 1_600_000_000 }];
  const dest = { priv: 'dir', 'priv/s': 'file:secret' };
  await t.test('default (never)', async () => {
    const b = newBox('dir-keep');
    prep(b);
    const before = attrs(b);
    const tar = tarIn(b, 'in.tar', forgeTar(members));
    const o = await restoreIn(b, ['--tar', tar]);
    // the directory is there: nothing to report (done), but its attributes are not the archive's to change
    assert.equal(o.code, 0, o.stderr);
    assert.equal(o.stderr, '');
    assert.deepEqual(o.results.map((r) => [r.path, r.status]), [['priv', 'done']]);
    assert.deepEqual(destView(b.dest), dest);
    assert.equal(attrs(b), before);
  });
  await t.test('--overwrite always', async () => {
    const b = newBox('dir-always');
    prep(b);
    const tar = tarIn(b, 'in.tar', forgeTar(members));
    const o = await restoreIn(b, ['--overwrite', 'always', '--tar', tar]);
    assert.equal(o.code, 0, o.stderr);
    assert.equal(o.stderr, '');
    assert.deepEqual(o.results.map((r) => [r.path, r.status]), [['priv', 'done']]);
    assert.deepEqual(destView(b.dest), dest);
    assert.equal(attrs(b), isRoot ? '777 0:0 1600000000' : `777 ${process.getuid!()}:${process.getgid!()} 1600000000`);
  });
});

test('15: a hard link whose target is missing fails only itself; later files in that directory are restored', async (t: TestContext) => {
  await t.test('GNU tar with a PATH selection (e d/zthree)', async () => {
    const b = newBox('gnu-selection');
    const s = path.join(b.box, 's');
    const mk = bash(`mkdir -p ${q(s)}/d ${q(s)}/e && echo one > ${q(s)}/d/one && ln ${q(s)}/d/one ${q(s)}/e/two && echo three > ${q(s)}/d/zthree && tar -C ${q(s)} -cf ${q(b.box)}/t.tar d/one e/two d/zthree`);
    assert.equal(mk.code, 0, mk.stderr);
    const tar = path.join(b.box, 't.tar');
    check(await restoreIn(b, ['--tar', tar, 'e', 'd/zthree']), tar, {
      code: 1,
      results: [['e/two', 'failed'], ['d/zthree', 'done']],
      lines: [['e/two', 'its link target is not there (d is missing)']],
      dest: { d: 'dir', 'd/zthree': 'file:three\n', e: 'dir' },
    }, b.dest);
  });
  await t.test('forged: a, h -> ghost/t, ghost/f, z', async () => {
    await attack('ghost-link', [
      { name: 'a', data: 'A' },
      { name: 'h', type: 'hardlink', linkname: 'ghost/t' },
      { name: 'ghost/f', data: 'G' },
      { name: 'z', data: 'Z' },
    ], {
      code: 1,
      results: [['a', 'done'], ['h', 'failed'], ['ghost/f', 'done'], ['z', 'done']],
      lines: [['h', 'its link target is not there (ghost is missing)']],
      dest: { a: 'file:A', ghost: 'dir', 'ghost/f': 'file:G', z: 'file:Z' },
    });
  });
});

/** A catalog and one tar volume of a small source: one "precious", two (hard link to one), d/f "three". */
function catalogCase(label: string): { base: string; cat: string; vol: string; media: string } {
  const base = freshDir(TMP, `${label}-`);
  const src = path.join(base, 'src');
  const cat = path.join(base, 'cat');
  const media = path.join(base, 'media');
  for (const d of [path.join(src, 'd'), cat, media]) fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(src, 'one'), 'precious\n');
  fs.linkSync(path.join(src, 'one'), path.join(src, 'two'));
  fs.writeFileSync(path.join(src, 'd', 'f'), 'abc');
  const r = bash(`set -o pipefail; cairn-scan ${q(src)} | cairn-plan --archive --catalog ${q(cat)} --format tar --medium-size 1M --volumes 10 > ${q(base)}/plan.ndjson && cairn-pack -o ${q(media)}/vol-%04d.tar ${q(base)}/plan.ndjson`);
  assert.equal(r.code, 0, r.stderr);
  return { base, cat, vol: path.join(media, 'vol-0001.tar'), media };
}

test('11: catalog: a hard link whose target was not restored fails; it is never linked to an old file', async () => {
  const c = catalogCase('cat-link');
  const b = newBox('cat-link');
  fs.writeFileSync(path.join(b.dest, 'one'), 'unrelated old one\n');
  check(await restoreIn(b, ['--catalog', c.cat, '--media', c.vol]), c.vol, {
    code: 1,
    results: [['d', 'done'], ['d/f', 'done'], ['one', 'skipped'], ['two', 'failed']],
    lines: [['one', 'skipped: exists and differs (kept; see --overwrite)'], ['two', 'its hard link target one was not restored']],
    dest: { d: 'dir', 'd/f': 'file:abc', one: 'file:unrelated old one\n' },
  }, b.dest);
  assert.equal(fs.lstatSync(path.join(b.dest, 'one')).nlink, 1, 'the old file got no second name');
});

test('12: catalog with a directory medium: a fifo or an oversized file at an object\'s place fails that object, fast', async (t: TestContext) => {
  const c = catalogCase('cat-medium');
  const m = path.join(c.base, 'm1');
  fs.mkdirSync(m);
  assert.equal(bash(`tar -xf ${q(c.vol)} -C ${q(m)}`).code, 0);
  const attempt = async (label: string, prep: () => void, why: string, dest: Record<string, string>) => {
    await t.test(label, async () => {
      prep();
      const b = newBox(`cat-medium-${label}`);
      const o = await restoreIn(b, ['--catalog', c.cat, '--media', m, 'd/f']);
      assert.ok(o.ms < 10_000, `took ${o.ms} ms`);
      // nothing written for it: no file, no temp left (a fifo is refused before its directory is made)
      check(o, m, { code: 1, results: [['d/f', 'failed']], lines: [['d/f', why]], dest }, b.dest);
    });
  };
  await attempt('fifo', () => {
    fs.rmSync(path.join(m, 'd', 'f'));
    assert.equal(bash(`mkfifo ${q(path.join(m, 'd', 'f'))}`).code, 0);
  }, 'not a regular file on the medium', {});
  await attempt('sparse 1 GiB', () => {
    fs.rmSync(path.join(m, 'd', 'f'));
    assert.equal(bash(`truncate -s 1G ${q(path.join(m, 'd', 'f'))}`).code, 0);
  }, '4 bytes, 3 expected', { d: 'dir' });
  await attempt('4 bytes', () => {
    fs.rmSync(path.join(m, 'd', 'f'));
    fs.writeFileSync(path.join(m, 'd', 'f'), 'abcd');
  }, '4 bytes, 3 expected', { d: 'dir' });
});
