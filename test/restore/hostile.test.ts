import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { test, type TestContext } from 'node:test';
import { isRoot, tempDir } from '../helpers/run';
import { check, newBox as sandboxIn, restoreIn, tarIn, type Box, type Line, type Outcome, type Want } from '../helpers/sandbox';
import { bash, q, withFat } from '../helpers/sync';
import { forgeTar, type ForgeMember } from '../helpers/tar-forge';

/*
 * cairn-restore against hostile tar streams, with the real executable.
 *
 * Every attack restores into a fresh DIR (`dest`) inside its own sandbox
 * directory, beside canaries at the places the attack aims at: `x` (what
 * `../x` reaches), `outside/` with `outside/secret` (what absolute names
 * and symlinks point to). The whole sandbox but DIR is snapshotted before
 * and after (type, bytes, target, mode, owner, mtime of every object), as
 * are the absolute paths some attacks name outside the sandbox: nothing
 * may appear or change there. What DIR holds afterwards is asserted
 * exactly, as are the exit status, the stderr lines (one per refused
 * entry, naming source and entry) and the results records.
 *
 * The archives are written by test/helpers/tar-forge.ts (independent of
 * lib/), except the specials, which GNU tar writes from real nodes.
 */

const TMP = tempDir('cairn-restore-hostile-');

/** Absolute paths outside the sandbox that attacks name: none may come to exist. */
const FAR = ['/etc/cairn-hostile-x', '/cairn-hostile-x', '/cairn-hostile-h'];
// Should a build write one, it is asserted (snap) and then removed, not left in /etc.
const farBefore = FAR.filter((f) => fs.lstatSync(f, { throwIfNoEntry: false }) !== undefined);
process.on('exit', () => {
  for (const f of FAR) if (!farBefore.includes(f)) fs.rmSync(f, { force: true, recursive: true });
});

function newBox(label: string, parent = TMP): Box {
  return sandboxIn(parent, label);
}

/** cairn-restore -d DEST ARGS: the sandbox (minus DEST) and FAR asserted unchanged. */
function restore(b: Box, args: string[], input?: Buffer): Promise<Outcome> {
  return restoreIn(b, args, { ...(input !== undefined ? { input } : {}), far: FAR });
}

/** Restores a forged archive (--tar FILE) into a fresh sandbox's DIR and checks it. `setup` prepares DIR and the sandbox first. */
async function attack(label: string, members: (b: Box) => ForgeMember[], want: (b: Box) => Want, setup?: (b: Box) => void, extra: string[] = []): Promise<Box> {
  const b = newBox(label);
  setup?.(b);
  const tar = tarIn(b, 'in.tar', forgeTar(members(b)));
  const o = await restore(b, ['--tar', tar, ...extra]);
  check(o, tar, want(b), b.dest);
  return b;
}

/** Each refused entry alone in its archive: exit 1, one line, one failed record, DIR empty. */
function refusedAlone(entry: string, why: string | RegExp): Want {
  return { code: 1, results: [[entry, 'failed']], lines: [[entry, why]], dest: {} };
}

// The reasons, as the build words them (stderr; the record's error is the same text, without "skipped: ").
const WHY = {
  absolute: 'refused: an absolute path',
  dotdot: 'refused: a ".." component',
  drive: 'refused: a Windows drive-relative name',
  below: (link: string) => `below a symbolic link (${link}): refused, it could lead outside the destination`,
  targetAbs: 'an absolute link target (it would point outside the destination)',
  targetOut: 'a link target that leaves the destination',
  targetThroughLink: 'a link target that climbs out of a symbolic link (it could lead outside the destination)',
  linkDotdot: 'its link target: a ".." component',
  linkAbs: 'its link target: an absolute path',
  linkBelow: (link: string) => `its link target is below a symbolic link (${link}): refused, it could lead outside the destination`,
  nfc: (first: string) => `collides with ${JSON.stringify(first)} once normalized (NFC)`,
  caseFold: (first: string) => `collides with ${JSON.stringify(first)} once normalized and case-folded (the destination ignores case)`,
  nulPath: 'refused: a NUL inside its pax path',
  nulLink: 'refused: a NUL inside its pax link path',
  depth: 'refused: a depth over 1024',
  fifo: 'skipped: a fifo from a tar not made by cairn (--specials restores it)',
  device: 'skipped: a device node from a tar not made by cairn (--specials restores it)',
  exists: 'skipped: exists and differs (kept; see --overwrite)',
};

const EVIL = 'evil\n';

test('absolute names (any number of leading slashes) are refused, nothing written', async (t: TestContext) => {
  const cases: [string, (b: Box) => string, 'file' | 'dir'][] = [
    ['/etc/x', () => '/etc/cairn-hostile-x', 'file'],
    ['//x', () => '//cairn-hostile-x', 'file'],
    ['///x', () => '///cairn-hostile-x', 'file'],
    ['absolute onto a canary outside DIR', (b) => path.join(b.outside, 'secret'), 'file'],
    ['absolute, a new name beside DIR (doubled slash)', (b) => `/${b.box}/new`, 'file'],
    ['absolute directory beside DIR', (b) => `${b.box}/newdir`, 'dir'],
    ['absolute into DIR itself', (b) => path.join(b.dest, 'in-dest'), 'file'],
    ['the root, as a file', () => '/', 'file'],
  ];
  for (const [label, name, type] of cases) {
    await t.test(label, async () => {
      await attack(label, (b) => [type === 'dir' ? { name: name(b), type } : { name: name(b), data: EVIL }], (b) => refusedAlone(name(b), WHY.absolute));
    });
  }
});

test('`..` components are refused, nothing written', async (t: TestContext) => {
  const names: [string, 'file' | 'dir'][] = [
    ['../x', 'file'],
    ['a/../../x', 'file'],
    ['a/..', 'dir'],
    ['a/..', 'file'],
    ['./../x', 'file'],
    ['a/b/../../../x', 'file'],
    ['../newdir', 'dir'],
    ['a/../b', 'file'],
    // A bare `..` directory member: refused like any other (not taken for the root, as `./` is).
    ['..', 'dir'],
    ['../..', 'dir'],
  ];
  for (const [name, type] of names) {
    await t.test(`${name} (${type})`, async () => {
      await attack(name, () => [{ name, type, ...(type === 'file' ? { data: EVIL } : {}) }], () => refusedAlone(name, WHY.dotdot));
    });
  }
  await t.test('`..` in a GNU ././@LongLink name', async () => {
    const name = `../${'L'.repeat(150)}`;
    await attack('longlink', () => [{ name, data: EVIL, gnu: true }], () => refusedAlone(name, WHY.dotdot));
  });
});

test('entries below a symlink (made by the archive, or already in DIR) are refused', async (t: TestContext) => {
  await t.test('link -> absolute dir outside (refused), then link/file: no link there, so an ordinary directory in DIR', async () => {
    await attack(
      'abs-link-then-file',
      (b) => [{ name: 'link', type: 'symlink', linkname: b.outside }, { name: 'link/file', data: 'inside\n' }],
      () => ({ code: 1, results: [['link', 'failed'], ['link/file', 'done']], lines: [['link', WHY.targetAbs]], dest: { link: 'dir', 'link/file': 'file:inside\n' } }),
    );
  });
  await t.test('link -> .. (refused), then link/x: an ordinary directory in DIR', async () => {
    await attack(
      'dotdot-link-then-file',
      () => [{ name: 'link', type: 'symlink', linkname: '..' }, { name: 'link/x', data: 'inside\n' }],
      () => ({ code: 1, results: [['link', 'failed'], ['link/x', 'done']], lines: [['link', WHY.targetOut]], dest: { link: 'dir', 'link/x': 'file:inside\n' } }),
    );
  });
  await t.test('a/up -> .. (stays in DIR, made), then a/up/x: refused all the same', async () => {
    await attack(
      'inner-up-link',
      () => [{ name: 'a', type: 'dir' }, { name: 'a/up', type: 'symlink', linkname: '..' }, { name: 'a/up/x', data: EVIL }],
      () => ({ code: 1, results: [['a', 'done'], ['a/up', 'done'], ['a/up/x', 'failed']], lines: [['a/up/x', WHY.below('a/up')]], dest: { a: 'dir', 'a/up': 'link:..' } }),
    );
  });
  await t.test('in -> sub (inside), then in/f: refused, sub/f not written', async () => {
    await attack(
      'inside-link',
      () => [{ name: 'sub', type: 'dir' }, { name: 'in', type: 'symlink', linkname: 'sub' }, { name: 'in/f', data: EVIL }],
      () => ({ code: 1, results: [['sub', 'done'], ['in', 'done'], ['in/f', 'failed']], lines: [['in/f', WHY.below('in')]], dest: { in: 'link:sub', sub: 'dir' } }),
    );
  });
  await t.test('a/b -> .. then a/c -> b/.. (lexically inside DIR, physically its parent): a/c refused; a/c/x then lands in a real directory a/c', async () => {
    await attack(
      'chain',
      () => [{ name: 'a', type: 'dir' }, { name: 'a/b', type: 'symlink', linkname: '..' }, { name: 'a/c', type: 'symlink', linkname: 'b/..' }, { name: 'a/c/x', data: EVIL }],
      () => ({
        code: 1,
        results: [['a', 'done'], ['a/b', 'done'], ['a/c', 'failed'], ['a/c/x', 'done']],
        lines: [['a/c', WHY.targetThroughLink]],
        dest: { a: 'dir', 'a/b': 'link:..', 'a/c': 'dir', 'a/c/x': `file:${EVIL}` },
      }),
    );
  });
  await t.test('a symlink already in DIR (to a dir outside): pre/file and pre/sub/file refused', async () => {
    await attack(
      'preexisting',
      () => [{ name: 'pre/file', data: EVIL }, { name: 'pre/sub/file', data: EVIL }],
      (b) => ({ code: 1, results: [['pre/file', 'failed'], ['pre/sub/file', 'failed']], lines: [['pre/file', WHY.below('pre')], ['pre/sub/file', WHY.below('pre')]], dest: { pre: `link:${b.outside}` } }),
      (b) => fs.symlinkSync(b.outside, path.join(b.dest, 'pre')),
    );
  });
  await t.test('a relative symlink already in DIR (up -> ..): up/x refused', async () => {
    await attack(
      'preexisting-up',
      () => [{ name: 'up/x', data: EVIL }],
      () => ({ code: 1, results: [['up/x', 'failed']], lines: [['up/x', WHY.below('up')]], dest: { up: 'link:..' } }),
      (b) => fs.symlinkSync('..', path.join(b.dest, 'up')),
    );
  });
  await t.test('split across two archives into the same DIR: in -> sub, then in/f', async () => {
    const b = newBox('two-archives');
    const t1 = tarIn(b, 'one.tar', forgeTar([{ name: 'sub', type: 'dir' }, { name: 'in', type: 'symlink', linkname: 'sub' }]));
    const t2 = tarIn(b, 'two.tar', forgeTar([{ name: 'in/f', data: EVIL }]));
    check(await restore(b, ['--tar', t1]), t1, { code: 0, results: [['sub', 'done'], ['in', 'done']], lines: [], dest: { in: 'link:sub', sub: 'dir' } }, b.dest);
    check(await restore(b, ['--tar', t2]), t2, { code: 1, results: [['in/f', 'failed']], lines: [['in/f', WHY.below('in')]], dest: { in: 'link:sub', sub: 'dir' } }, b.dest);
  });
  await t.test('split across two archives: a/up -> .. then a/up/x', async () => {
    const b = newBox('two-archives-up');
    const t1 = tarIn(b, 'one.tar', forgeTar([{ name: 'a', type: 'dir' }, { name: 'a/up', type: 'symlink', linkname: '..' }]));
    const t2 = tarIn(b, 'two.tar', forgeTar([{ name: 'a/up/x', data: EVIL }]));
    check(await restore(b, ['--tar', t1]), t1, { code: 0, results: [['a', 'done'], ['a/up', 'done']], lines: [], dest: { a: 'dir', 'a/up': 'link:..' } }, b.dest);
    check(await restore(b, ['--tar', t2]), t2, { code: 1, results: [['a/up/x', 'failed']], lines: [['a/up/x', WHY.below('a/up')]], dest: { a: 'dir', 'a/up': 'link:..' } }, b.dest);
  });
  await t.test('two archives in one run (--tar twice): in -> sub, then in/f', async () => {
    const b = newBox('two-tars-one-run');
    const t1 = tarIn(b, 'one.tar', forgeTar([{ name: 'sub', type: 'dir' }, { name: 'in', type: 'symlink', linkname: 'sub' }]));
    const t2 = tarIn(b, 'two.tar', forgeTar([{ name: 'in/f', data: EVIL }]));
    const o = await restore(b, ['--tar', t1, '--tar', t2]);
    check(o, t2, { code: 1, results: [['sub', 'done'], ['in', 'done'], ['in/f', 'failed']], lines: [['in/f', WHY.below('in')]], dest: { in: 'link:sub', sub: 'dir' } }, b.dest);
  });
  await t.test('split across two archives: link -> outside (refused), then link/file (no symlink there: an ordinary directory in DIR)', async () => {
    const b = newBox('two-archives-out');
    const t1 = tarIn(b, 'one.tar', forgeTar([{ name: 'link', type: 'symlink', linkname: b.outside }]));
    const t2 = tarIn(b, 'two.tar', forgeTar([{ name: 'link/file', data: 'inside\n' }]));
    check(await restore(b, ['--tar', t1]), t1, { code: 1, results: [['link', 'failed']], lines: [['link', WHY.targetAbs]], dest: {} }, b.dest);
    check(await restore(b, ['--tar', t2]), t2, { code: 0, results: [['link/file', 'done']], lines: [], dest: { link: 'dir', 'link/file': 'file:inside\n' } }, b.dest);
  });
  await t.test('s -> t (inside), then a file s: not written through the link (kept: it exists and differs)', async () => {
    await attack(
      'link-then-same-name',
      () => [{ name: 't', data: 'orig\n' }, { name: 's', type: 'symlink', linkname: 't' }, { name: 's', data: EVIL }],
      () => ({ code: 1, results: [['t', 'done'], ['s', 'done'], ['s', 'skipped']], lines: [['s', WHY.exists]], dest: { s: 'link:t', t: 'file:orig\n' } }),
    );
  });
  await t.test('the same with --overwrite always: the link is replaced, its target untouched', async () => {
    await attack(
      'link-then-same-name-always',
      () => [{ name: 't', data: 'orig\n' }, { name: 's', type: 'symlink', linkname: 't' }, { name: 's', data: 'replaced\n' }],
      () => ({ code: 0, results: [['t', 'done'], ['s', 'done'], ['s', 'done']], lines: [], dest: { s: 'file:replaced\n', t: 'file:orig\n' } }),
      undefined,
      ['--overwrite', 'always'],
    );
  });
  await t.test('--overwrite always over a symlink in DIR that points at a file outside: the link is replaced, the file untouched', async () => {
    await attack(
      'overwrite-link',
      () => [{ name: 'pre', data: 'replaced\n' }],
      () => ({ code: 0, results: [['pre', 'done']], lines: [], dest: { pre: 'file:replaced\n' } }),
      (b) => fs.symlinkSync(path.join(b.outside, 'secret'), path.join(b.dest, 'pre')),
      ['--overwrite', 'always'],
    );
  });
  await t.test('--overwrite always over a file in DIR hard-linked to a file outside: replaced, the outside file keeps its bytes', async () => {
    await attack(
      'overwrite-hardlink',
      () => [{ name: 'h', data: 'replaced\n' }],
      () => ({ code: 0, results: [['h', 'done']], lines: [], dest: { h: 'file:replaced\n' } }),
      (b) => fs.linkSync(b.x, path.join(b.dest, 'h')),
      ['--overwrite', 'always'],
    );
  });
  await t.test('a directory member where DIR holds a symlink to a dir outside: kept and reported, the outside dir\'s mode and time untouched', async () => {
    await attack(
      'dir-over-link',
      () => [{ name: 'pre', type: 'dir', mode: 0o700, mtime: 1_111_111_111 }],
      (b) => ({ code: 1, results: [['pre', 'skipped']], lines: [['pre', WHY.exists]], dest: { pre: `link:${b.outside}` } }),
      (b) => fs.symlinkSync(b.outside, path.join(b.dest, 'pre')),
    );
  });
});

test('hard links whose target leaves DIR or goes through a symlink are refused', async (t: TestContext) => {
  const alone: [string, (b: Box) => string, string][] = [
    ['../x', () => '../x', WHY.linkDotdot],
    ['/etc/passwd', () => '/etc/passwd', WHY.linkAbs],
    ['an absolute canary beside DIR', (b) => b.x, WHY.linkAbs],
    ['a/../../x', () => 'a/../../x', WHY.linkDotdot],
  ];
  for (const [label, target, why] of alone) {
    await t.test(`h -> ${label}`, async () => {
      await attack(label, (b) => [{ name: 'h', type: 'hardlink', linkname: target(b) }], () => refusedAlone('h', why));
    });
  }
  await t.test('//cairn-hostile-h -> /etc/passwd (absolute both ways)', async () => {
    await attack('abs-abs', () => [{ name: '//cairn-hostile-h', type: 'hardlink', linkname: '/etc/passwd' }], () => refusedAlone('//cairn-hostile-h', WHY.absolute));
  });
  await t.test('h -> ../x, then a file h: the canary keeps its bytes', async () => {
    await attack(
      'hardlink-then-write',
      () => [{ name: 'h', type: 'hardlink', linkname: '../x' }, { name: 'h', data: 'inside\n' }],
      () => ({ code: 1, results: [['h', 'failed'], ['h', 'done']], lines: [['h', WHY.linkDotdot]], dest: { h: 'file:inside\n' } }),
    );
  });
  await t.test('h -> s/f where s -> sub is a symlink the archive made', async () => {
    await attack(
      'hardlink-through-archive-link',
      () => [{ name: 'sub', type: 'dir' }, { name: 'sub/f', data: 'f\n' }, { name: 's', type: 'symlink', linkname: 'sub' }, { name: 'h', type: 'hardlink', linkname: 's/f' }],
      () => ({ code: 1, results: [['sub', 'done'], ['sub/f', 'done'], ['s', 'done'], ['h', 'failed']], lines: [['h', WHY.linkBelow('s')]], dest: { s: 'link:sub', sub: 'dir', 'sub/f': 'file:f\n' } }),
    );
  });
  await t.test('h -> ext/secret where ext is a symlink already in DIR to a dir outside', async () => {
    await attack(
      'hardlink-through-preexisting',
      () => [{ name: 'h', type: 'hardlink', linkname: 'ext/secret' }],
      (b) => ({ code: 1, results: [['h', 'failed']], lines: [['h', WHY.linkBelow('ext')]], dest: { ext: `link:${b.outside}` } }),
      (b) => fs.symlinkSync(b.outside, path.join(b.dest, 'ext')),
    );
  });
  await t.test('up2 -> a/up, a hard link to the symlink a/up -> .. (it would point at DIR\'s parent from the top)', async () => {
    await attack(
      'hardlink-to-symlink',
      () => [{ name: 'a', type: 'dir' }, { name: 'a/up', type: 'symlink', linkname: '..' }, { name: 'up2', type: 'hardlink', linkname: 'a/up' }, { name: 'up2/x', data: 'inside\n' }],
      () => ({
        code: 1,
        results: [['a', 'done'], ['a/up', 'done'], ['up2', 'failed'], ['up2/x', 'done']],
        lines: [['up2', 'its link target a/up is not a regular file']],
        dest: { a: 'dir', 'a/up': 'link:..', up2: 'dir', 'up2/x': 'file:inside\n' },
      }),
    );
  });
});

test('symlink targets that leave DIR are refused; those that stay in it are made', async (t: TestContext) => {
  const out: [string, string, (b: Box) => string, string][] = [
    ['absolute /etc/passwd', 's', () => '/etc/passwd', WHY.targetAbs],
    ['absolute into the sandbox', 's', (b) => b.outside, WHY.targetAbs],
    ['absolute into DIR itself', 's', (b) => b.dest, WHY.targetAbs],
    ['absolute /', 's', () => '/', WHY.targetAbs],
    ['../../x', 's', () => '../../x', WHY.targetOut],
    ['..', 's', () => '..', WHY.targetOut],
    ['a/s -> ../../x', 'a/s', () => '../../x', WHY.targetOut],
    ['a/s -> ../a/../../x', 'a/s', () => '../a/../../x', WHY.targetOut],
    ['a long target through a pax linkpath', 's', () => `${'../'.repeat(40)}x`, WHY.targetOut],
  ];
  for (const [label, name, target, why] of out) {
    await t.test(label, async () => {
      const inA = name.startsWith('a/');
      await attack(
        label,
        (b) => [...(inA ? [{ name: 'a', type: 'dir' } as ForgeMember] : []), { name, type: 'symlink', linkname: target(b) }],
        () => ({
          code: 1,
          results: [...(inA ? [['a', 'done'] as [string, string]] : []), [name, 'failed']],
          lines: [[name, why]],
          dest: inA ? { a: 'dir' } : ({} as Record<string, string>),
        }),
      );
    });
  }
  await t.test('targets that stay in DIR: a/b/s -> ../../f, t -> ., u -> a/../f, v -> missing', async () => {
    await attack(
      'inside-targets',
      () => [
        { name: 'a', type: 'dir' },
        { name: 'a/b', type: 'dir' },
        { name: 'a/b/s', type: 'symlink', linkname: '../../f' },
        { name: 'f', data: 'f\n' },
        { name: 't', type: 'symlink', linkname: '.' },
        { name: 'u', type: 'symlink', linkname: 'a/../f' },
        { name: 'v', type: 'symlink', linkname: 'missing' },
      ],
      () => ({
        code: 0,
        results: [['a', 'done'], ['a/b', 'done'], ['a/b/s', 'done'], ['f', 'done'], ['t', 'done'], ['u', 'done'], ['v', 'done']],
        lines: [],
        dest: { a: 'dir', 'a/b': 'dir', 'a/b/s': 'link:../../f', f: 'file:f\n', t: 'link:.', u: 'link:a/../f', v: 'link:missing' },
      }),
    );
  });
});

test('Windows drive-relative names are refused', async (t: TestContext) => {
  for (const name of ['C:x', 'C:\\x', 'c:/x', 'C:\\..\\x', 'z:']) {
    await t.test(name, async () => {
      await attack(name, () => [{ name, data: EVIL }], () => refusedAlone(name, WHY.drive));
    });
  }
});

test('names that collide after NFC normalization: the first is restored, the second refused', async () => {
  const nfc = 'caf\u00e9';
  const nfd = 'cafe\u0301';
  await attack(
    'nfc',
    () => [{ name: nfc, data: 'one\n' }, { name: nfd, data: 'two\n' }],
    () => ({ code: 1, results: [[nfc, 'done'], [nfd, 'failed']], lines: [[nfd, WHY.nfc(nfc)]], dest: { [nfc]: 'file:one\n' } }),
  );
});

test('names that collide after case folding: refused on a case-insensitive DIR (FAT), all restored on a case-sensitive one', async (t: TestContext) => {
  const members: ForgeMember[] = [{ name: 'README', data: 'one\n' }, { name: 'readme', data: 'two\n' }, { name: 'Dir', type: 'dir' }, { name: 'dir/f', data: 'three\n' }];
  await t.test('case-sensitive DIR', async () => {
    await attack('case-sensitive', () => members, () => ({
      code: 0,
      results: [['README', 'done'], ['readme', 'done'], ['Dir', 'done'], ['dir/f', 'done']],
      lines: [],
      dest: { Dir: 'dir', README: 'file:one\n', dir: 'dir', 'dir/f': 'file:three\n', readme: 'file:two\n' },
    }));
  });
  await t.test('case-insensitive DIR (FAT through fusefat)', (tt) =>
    withFat(tt, async (mnt) => {
      const b = newBox('fat', mnt);
      const tar = tarIn(b, 'in.tar', forgeTar(members));
      // FAT keeps no owner and no permission bits: the comparison of the sandbox is of what FAT shows.
      check(await restore(b, ['--tar', tar]), tar, {
        code: 1,
        results: [['README', 'done'], ['readme', 'failed'], ['Dir', 'done'], ['dir/f', 'failed']],
        lines: [['readme', WHY.caseFold('README')], ['dir/f', WHY.caseFold('Dir')]],
        dest: { Dir: 'dir', README: 'file:one\n' },
      }, b.dest);
    }));
});

test('a NUL inside a pax path or linkpath record is refused', async (t: TestContext) => {
  await t.test('path (the entry shown JSON-escaped)', async () => {
    await attack(
      'nul-path',
      () => [{ name: 'ustar-name', data: EVIL, pax: [['path', Buffer.from('a\0b', 'latin1')]] }, { name: 'after', data: 'after\n' }],
      () => ({ code: 1, results: [['a\0b', 'failed'], ['after', 'done']], lines: [['a\\u0000b', WHY.nulPath]], dest: { after: 'file:after\n' } }),
    );
  });
  await t.test('linkpath', async () => {
    await attack(
      'nul-linkpath',
      () => [{ name: 's', type: 'symlink', linkname: 'ustar-target', pax: [['linkpath', Buffer.from('../x\0y', 'latin1')]] }],
      () => refusedAlone('s', WHY.nulLink),
    );
  });
});

test('negative and absurd sizes are refused: one line, a failed record, what came before restored, exit 1', async (t: TestContext) => {
  const cases: [string, ForgeMember, RegExp][] = [
    ['GNU base-256 -1', { name: 'neg', size: -1n, gnu: true }, /negative size/],
    ['GNU base-256 -512', { name: 'neg', size: -512n, gnu: true }, /negative size/],
    ['GNU base-256 2^60', { name: 'huge', size: 1n << 60n, gnu: true }, /impossible size/],
    ['pax size=-1', { name: 'neg', pax: [['size', '-1']] }, /impossible pax size/],
    ['pax size=2^60', { name: 'huge', pax: [['size', String(2n ** 60n)]] }, /impossible pax size/],
    ['pax size=2^53+1', { name: 'huge', pax: [['size', String(2n ** 53n + 1n)]] }, /impossible pax size/],
    ['1 MiB declared, 10 bytes there', { name: 'short', size: 1 << 20, data: '0123456789' }, /truncated/],
  ];
  for (const [label, m, why] of cases) {
    await t.test(label, async () => {
      const name = m.name as string;
      await attack(
        label,
        () => [{ name: 'before', data: 'before\n' }, m],
        () => ({ code: 1, results: [['before', 'done'], [name, 'failed']], lines: [[name, why]], dest: { before: 'file:before\n' } }),
      );
    });
  }
});

test('depth: 1024 components restored, 1025 refused with nothing made', async (t: TestContext) => {
  const deep = (n: number) => `${'d/'.repeat(n - 1)}f`;
  await t.test('1024', async () => {
    const b = await attack('depth-1024', () => [{ name: deep(1024), data: 'deep\n' }], () => ({
      code: 0,
      results: [[deep(1024), 'done']],
      lines: [],
      dest: Object.fromEntries([...Array(1024).keys()].map((i) => (i === 1023 ? [deep(1024), 'file:deep\n'] : ['d/'.repeat(i + 1).slice(0, -1), 'dir']))),
    }));
    bash(`rm -rf ${q(b.box)}`);
  });
  await t.test('1025', async () => {
    await attack('depth-1025', () => [{ name: deep(1025), data: EVIL }], () => refusedAlone(deep(1025), WHY.depth));
  });
});

test('a gzip bomb (64 MiB of zeros, ratio over 1000x) is stopped: no partial file, the entry reported failed, exit 1', async () => {
  const b = newBox('bomb');
  const ZEROS = 64 << 20;
  const head = Buffer.concat([forgeTar([{ name: 'before', data: 'before\n' }], { end: false }), forgeTar([{ name: 'zeros', size: ZEROS }], { end: false })]);
  const gz = zlib.gzipSync(Buffer.concat([head, Buffer.alloc(ZEROS + 1024)]), { level: 9 });
  assert.ok(ZEROS / gz.length > 1000, `ratio ${ZEROS / gz.length}`);
  const file = tarIn(b, 'bomb.tar.gz', gz);
  check(await restore(b, ['--tar', file]), file, {
    code: 1,
    results: [['before', 'done'], ['zeros', 'failed']],
    lines: [['zeros', /^the gzip stream inflates more than 1000 times its size \(\d+ bytes from \d+\): stopped$/]],
    dest: { before: 'file:before\n' },
  }, b.dest);
});

test('a fifo and a char device from GNU tar: skipped without --specials (reported), made with it (root)', async (t: TestContext) => {
  const b0 = newBox('specials-src');
  const src = path.join(b0.box, 'src');
  fs.mkdirSync(src);
  fs.writeFileSync(path.join(src, 'f'), 'f\n');
  const made = bash(`mkfifo ${q(src)}/p && { ${isRoot ? `mknod ${q(src)}/c c 1 3` : 'true'}; } && tar --format=gnu -C ${q(src)} -cf ${q(b0.box)}/specials.tar f p ${isRoot ? 'c' : ''}`);
  assert.equal(made.code, 0, made.stderr);
  const tarData = fs.readFileSync(path.join(b0.box, 'specials.tar'));
  await t.test('without --specials', async () => {
    const b = newBox('specials-no');
    const tar = tarIn(b, 'in.tar', tarData);
    check(await restore(b, ['--tar', tar]), tar, {
      code: 1,
      results: [['f', 'done'], ['p', 'skipped'], ...(isRoot ? [['c', 'skipped'] as [string, string]] : [])],
      lines: [['p', WHY.fifo], ...(isRoot ? [['c', WHY.device] as Line] : [])],
      dest: { f: 'file:f\n' },
    }, b.dest);
  });
  await t.test('with --specials', { skip: isRoot ? false : 'device nodes need root' }, async () => {
    const b = newBox('specials-yes');
    const tar = tarIn(b, 'in.tar', tarData);
    check(await restore(b, ['--specials', '--tar', tar]), tar, {
      code: 0,
      results: [['f', 'done'], ['p', 'done'], ['c', 'done']],
      lines: [],
      dest: { c: 'char:1,3', f: 'file:f\n', p: 'fifo' },
    }, b.dest);
  });
});

test('a mixed archive: the good entries restored (bytes, mode, mtime, hard link), the bad ones refused', async () => {
  const b = await attack(
    'mixed',
    (bb) => [
      { name: 'a', type: 'dir', mode: 0o750, mtime: 1_500_000_000 },
      { name: 'a/f', data: 'good\n', mode: 0o640, mtime: 1_400_000_000 },
      { name: '../x', data: EVIL },
      { name: 'a/link', type: 'symlink', linkname: 'f' },
      { name: bb.x, data: EVIL },
      { name: 'a/h', type: 'hardlink', linkname: 'a/f' },
      { name: 'esc', type: 'symlink', linkname: '../outside' },
      { name: 'c', data: 'c\n', mode: 0o755, mtime: 1_300_000_000 },
    ],
    (bb) => ({
      code: 1,
      results: [['a', 'done'], ['a/f', 'done'], ['../x', 'failed'], ['a/link', 'done'], [bb.x, 'failed'], ['a/h', 'done'], ['esc', 'failed'], ['c', 'done']],
      lines: [['../x', WHY.dotdot], [bb.x, WHY.absolute], ['esc', WHY.targetOut]],
      dest: { a: 'dir', 'a/f': 'file:good\n', 'a/h': 'file:good\n', 'a/link': 'link:f', c: 'file:c\n' },
    }),
  );
  const st = (rel: string) => fs.lstatSync(path.join(b.dest, rel));
  assert.deepEqual([st('a').mode & 0o7777, st('a').mtimeMs], [0o750, 1_500_000_000_000]);
  assert.deepEqual([st('a/f').mode & 0o7777, st('a/f').mtimeMs, st('a/f').nlink, st('a/f').ino], [0o640, 1_400_000_000_000, 2, st('a/h').ino]);
  assert.deepEqual([st('c').mode & 0o7777, st('c').mtimeMs], [0o755, 1_300_000_000_000]);
});

test('--dry-run of a mixed archive: the same refusals as the real run, nothing written', async () => {
  await attack(
    'dry-run',
    () => [
      { name: 'a', type: 'dir' },
      { name: 'a/f', data: 'good\n' },
      { name: '../x', data: EVIL },
      { name: 'a/up', type: 'symlink', linkname: '..' },
      { name: 'a/up/y', data: EVIL },
      { name: 'esc', type: 'symlink', linkname: '../outside' },
    ],
    () => ({
      code: 1,
      results: [['a', 'dry-run'], ['a/f', 'dry-run'], ['../x', 'failed'], ['a/up', 'dry-run'], ['a/up/y', 'failed'], ['esc', 'failed']],
      lines: [['../x', WHY.dotdot], ['a/up/y', WHY.below('a/up')], ['esc', WHY.targetOut]],
      dest: {},
    }),
    undefined,
    ['--dry-run'],
  );
});

test('valid archives restore whole: GNU tar of a tree (with ./), the same on stdin, gzipped', async (t: TestContext) => {
  const b0 = newBox('valid-src');
  const src = path.join(b0.box, 'src');
  fs.mkdirSync(path.join(src, 'd/e'), { recursive: true });
  fs.writeFileSync(path.join(src, 'd/e/f'), 'f\n');
  fs.writeFileSync(path.join(src, 'g'), 'g\n');
  fs.symlinkSync('d/e/f', path.join(src, 'l'));
  const made = bash(`tar --format=gnu --sort=name -C ${q(src)} -cf ${q(b0.box)}/t.tar . && gzip -9 -c ${q(b0.box)}/t.tar > ${q(b0.box)}/t.tar.gz`);
  assert.equal(made.code, 0, made.stderr);
  // `./` is DIR itself: no record of its own.
  const want: Want = {
    code: 0,
    results: [['d', 'done'], ['d/e', 'done'], ['d/e/f', 'done'], ['g', 'done'], ['l', 'done']],
    lines: [],
    dest: { d: 'dir', 'd/e': 'dir', 'd/e/f': 'file:f\n', g: 'file:g\n', l: 'link:d/e/f' },
  };
  for (const [label, file, stdin] of [['--tar FILE', 't.tar', false], ['stdin', 't.tar', true], ['gzip', 't.tar.gz', false]] as const) {
    await t.test(label, async () => {
      const b = newBox(`valid-${label}`);
      const tar = tarIn(b, file, fs.readFileSync(path.join(b0.box, file)));
      check(await restore(b, stdin ? [] : ['--tar', tar], stdin ? fs.readFileSync(tar) : undefined), stdin ? 'stdin' : tar, want, b.dest);
    });
  }
});

test('hostile entries on stdin: the source is named stdin', async (t: TestContext) => {
  await t.test('no source option', async () => {
    const b = newBox('stdin');
    check(await restore(b, [], forgeTar([{ name: '../x', data: EVIL }])), 'stdin', refusedAlone('../x', WHY.dotdot), b.dest);
  });
  await t.test('--tar -', async () => {
    const b = newBox('stdin-dash');
    check(await restore(b, ['--tar', '-'], forgeTar([{ name: '/etc/cairn-hostile-x', data: EVIL }])), 'stdin', refusedAlone('/etc/cairn-hostile-x', WHY.absolute), b.dest);
  });
});
