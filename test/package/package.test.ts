import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { COMMANDS } from '../../lib/cli/commands';
import { ROOT, sh, tempDir } from '../helpers/run';

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };

test('package.json lists exactly the commands that exist, each with a launcher and a man page', () => {
  assert.deepEqual(Object.keys(pkg.bin).sort(), ['cairn', ...COMMANDS.map((c) => `cairn-${c.name}`)].sort());
  for (const [name, rel] of Object.entries(pkg.bin)) {
    const file = path.join(ROOT, rel);
    assert.ok(fs.statSync(file).mode & 0o111, `${rel} is not executable`);
    if (name !== 'cairn') assert.ok(fs.existsSync(path.join(ROOT, 'man', `${name}.1`)), `no man/${name}.1`);
  }
  for (const page of ['cairn.7', 'cairn-records.5']) assert.ok(fs.existsSync(path.join(ROOT, 'man', page)), page);
});

test('every man page renders without a warning (groff -ww) and through man -l', (t) => {
  if (sh('command -v groff && command -v man').code !== 0) {
    t.skip('groff or man is not installed (.ci/run installs them)');
    return;
  }
  for (const page of fs.readdirSync(path.join(ROOT, 'man'))) {
    const file = path.join(ROOT, 'man', page);
    const groff = sh(`groff -ww -z -t -man ${file}`);
    assert.equal(groff.stderr, '', `${page}: ${groff.stderr}`);
    assert.equal(groff.code, 0);
    const man = sh(`MANWIDTH=80 man -l ${file} 2>&1 | cat`);
    assert.equal(man.code, 0);
    assert.ok(man.stdout.includes('NAME'), `${page} has no NAME section`);
    // A formatter's complaint (troff: <stdin>:12: warning: ...), not the word in the text.
    assert.doesNotMatch(man.stdout, /^\S*(troff|tbl|grotty|man|groff)\S*: .*warning/im, page);
  }
});

test('make install PREFIX=... gives working commands and man pages without npm; uninstall removes them', () => {
  const prefix = tempDir();
  const inst = sh(`make -s install PREFIX=${prefix}`);
  assert.equal(inst.code, 0, inst.stderr);
  const tree = tempDir();
  fs.writeFileSync(path.join(tree, 'f'), 'x');
  // Only node on PATH: no npm, no project directory.
  const nodeDir = path.dirname(process.execPath);
  const env = { PATH: `${prefix}/bin:${nodeDir}:/usr/bin:/bin` };
  const scan = sh(`cd / && env -i PATH=${env.PATH} cairn-scan --hash sha256 ${tree} | tail -2 | head -1`);
  assert.equal(scan.code, 0, scan.stderr);
  assert.match(scan.stdout, /^\{"path":"f","type":"file","size":1,.*"hash":"sha256:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"/);
  const viaCairn = sh(`cd / && env -i PATH=${env.PATH} cairn --version`);
  assert.match(viaCairn.stdout, /^cairn \d/);
  assert.ok(fs.existsSync(path.join(prefix, 'share/man/man1/cairn-scan.1')));
  assert.ok(fs.existsSync(path.join(prefix, 'share/man/man5/cairn-records.5')));
  assert.ok(fs.existsSync(path.join(prefix, 'share/man/man7/cairn.7')));
  const un = sh(`make -s uninstall PREFIX=${prefix}`);
  assert.equal(un.code, 0, un.stderr);
  assert.deepEqual(fs.readdirSync(path.join(prefix, 'bin')), []);
  assert.ok(!fs.existsSync(path.join(prefix, 'lib/cairn')));
  assert.ok(!fs.existsSync(path.join(prefix, 'share/man/man1/cairn-scan.1')));
});
