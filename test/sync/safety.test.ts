import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { isRoot, records, run, sh } from '../helpers/run';
import { setTime } from '../helpers/tree';
import { q, srcDst } from '../helpers/sync';

function plan(src: string, dst: string, flags = '--mirror --max-delete=off'): string {
  const r = sh(`set -o pipefail; cairn-diff ${q(src)} ${q(dst)} | cairn-plan ${flags}`);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

test('a destination file changed between plan and apply is left untouched and reported stale', async () => {
  const { src, dst } = srcDst();
  fs.writeFileSync(path.join(src, 'f'), 'new version');
  fs.writeFileSync(path.join(dst, 'f'), 'old');
  fs.writeFileSync(path.join(dst, 'gone'), 'extra');
  fs.writeFileSync(path.join(src, 'ok'), 'fine');
  setTime(path.join(src, 'f'), '2024-01-01 00:00:00');
  const p = plan(src, dst);
  // Someone edits both destination files after the scan.
  fs.writeFileSync(path.join(dst, 'f'), 'edited by hand');
  fs.writeFileSync(path.join(dst, 'gone'), 'edited too');
  const r = await run('cairn-apply', [], { input: p });
  assert.equal(r.code, 1);
  const results = records(r.stdout).filter((x) => x.op !== undefined);
  const byPath = Object.fromEntries(results.map((x) => [x.path, x]));
  assert.equal((byPath.f as { status: string }).status, 'stale');
  assert.match((byPath.f as { error: string }).error, /^changed since the scan: size 3 -> 14$/);
  assert.equal((byPath.gone as { status: string }).status, 'stale');
  assert.equal((byPath.ok as { status: string }).status, 'done');
  assert.equal(fs.readFileSync(path.join(dst, 'f'), 'utf8'), 'edited by hand');
  assert.equal(fs.readFileSync(path.join(dst, 'gone'), 'utf8'), 'edited too');
  assert.equal(fs.readFileSync(path.join(dst, 'ok'), 'utf8'), 'fine');
  assert.match(r.stderr, /^cairn-apply: f: stale: changed since the scan: size 3 -> 14$/m);
});

test('a source file changed between plan and apply is not copied half-old: stale', async () => {
  const { src, dst } = srcDst();
  fs.writeFileSync(path.join(src, 'f'), 'v1');
  const p = plan(src, dst);
  fs.writeFileSync(path.join(src, 'f'), 'v2 longer');
  const r = await run('cairn-apply', [], { input: p });
  assert.equal(r.code, 1);
  const res = records(r.stdout).find((x) => x.path === 'f')!;
  assert.equal(res.status, 'stale');
  assert.equal(fs.existsSync(path.join(dst, 'f')), false);
  assert.deepEqual(fs.readdirSync(dst), [], 'no temporary file left');
});

test('nothing under a source directory that cannot be read is deleted on the destination', { skip: !isRoot && 'needs root to scan as another user' }, () => {
  const { base, src, dst } = srcDst();
  fs.mkdirSync(path.join(src, 'secret'));
  fs.writeFileSync(path.join(src, 'secret', 'a'), 'a');
  fs.writeFileSync(path.join(src, 'open'), 'o');
  fs.mkdirSync(path.join(dst, 'secret'));
  fs.writeFileSync(path.join(dst, 'secret', 'a'), 'a');
  fs.writeFileSync(path.join(dst, 'secret', 'only-on-dst'), 'keep me');
  fs.writeFileSync(path.join(dst, 'extra'), 'delete me');
  fs.chmodSync(path.join(src, 'secret'), 0o700);
  for (const p of [base, dst, path.join(dst, 'secret')]) fs.chmodSync(p, 0o777);
  // Scan the source as nobody: src/secret cannot be listed.
  const scan = sh(`setpriv --reuid=65534 --regid=65534 --clear-groups cairn-scan ${q(src)} > ${q(path.join(base, 'src.ndjson'))}`);
  assert.equal(scan.code, 1, scan.stderr);
  assert.match(scan.stderr, /secret: EACCES/);
  const r = sh(`set -o pipefail; cairn-diff ${q(path.join(base, 'src.ndjson'))} ${q(dst)} | cairn-plan --mirror --max-delete=off --stats | cairn-apply > /dev/null`);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /deletions under a directory unreadable on the source/);
  assert.equal(fs.readFileSync(path.join(dst, 'secret', 'only-on-dst'), 'utf8'), 'keep me');
  assert.equal(fs.readFileSync(path.join(dst, 'secret', 'a'), 'utf8'), 'a');
  assert.equal(fs.existsSync(path.join(dst, 'extra')), false, 'elsewhere the mirror deletes as usual');
  assert.equal(fs.readFileSync(path.join(dst, 'open'), 'utf8'), 'o');
});

test('a truncated plan changes nothing', async () => {
  const { src, dst } = srcDst();
  for (let i = 0; i < 50; i++) fs.writeFileSync(path.join(src, `f${i}`), `${i}`);
  const p = plan(src, dst);
  const cut = p.slice(0, p.lastIndexOf('{"cairn":"end"'));
  const r = await run('cairn-apply', [], { input: cut });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^cairn-apply: stdin:\d+: truncated: the stream has no end record/);
  assert.equal(r.stdout, '');
  assert.deepEqual(fs.readdirSync(dst), []);
});

test('an edited plan whose later line is bad changes nothing; a path leaving the root is refused', async () => {
  const { src, dst } = srcDst();
  for (let i = 0; i < 5; i++) fs.writeFileSync(path.join(src, `f${i}`), `${i}`);
  const lines = plan(src, dst).split('\n');
  lines[4] = lines[4]!.replace('"path":"f3"', '"path":"../escape"');
  const r = await run('cairn-apply', [], { input: lines.join('\n') });
  assert.equal(r.code, 2);
  assert.equal(r.stderr, `cairn-apply: stdin:5: path: "." or ".." component: plan paths stay inside their root\n`);
  assert.deepEqual(fs.readdirSync(dst), []);
  assert.equal(fs.existsSync(path.join(path.dirname(dst), 'escape')), false);
});

test('apply never writes through a symlink planted in the destination after the scan', async () => {
  const { base, src, dst } = srcDst();
  fs.mkdirSync(path.join(src, 'd'));
  fs.writeFileSync(path.join(src, 'd', 'f'), 'payload');
  fs.mkdirSync(path.join(dst, 'd'));
  const p = plan(src, dst);
  const outside = path.join(base, 'outside');
  fs.mkdirSync(outside);
  fs.rmdirSync(path.join(dst, 'd'));
  fs.symlinkSync(outside, path.join(dst, 'd'));
  const r = await run('cairn-apply', [], { input: p });
  assert.equal(r.code, 1);
  assert.deepEqual(fs.readdirSync(outside), []);
  const res = records(r.stdout).find((x) => x.path === 'd/f')!;
  assert.equal(res.status, 'failed');
  assert.equal(res.error, 'parent "d" is a symlink, not a directory: refusing to write through it');
});

test('--dry-run changes nothing and reports what it would do', async () => {
  const { src, dst } = srcDst();
  fs.mkdirSync(path.join(src, 'd'));
  fs.writeFileSync(path.join(src, 'd', 'f'), 'x');
  fs.writeFileSync(path.join(dst, 'old'), 'y');
  const p = plan(src, dst);
  const r = await run('cairn-apply', ['-n'], { input: p });
  assert.equal(r.code, 0, r.stderr);
  const res = records(r.stdout);
  assert.equal(res[0]!.dry_run, true);
  assert.deepEqual(
    res.filter((x) => x.op).map((x) => [x.op, x.path, x.status]),
    [
      ['mkdir', 'd', 'dry-run'],
      ['copy', 'd/f', 'dry-run'],
      ['meta', 'd', 'dry-run'],
      ['remove', 'old', 'dry-run'],
      ['meta', '.', 'dry-run'],
    ],
  );
  assert.deepEqual(fs.readdirSync(dst), ['old']);
});

test('a saved plan replays onto another destination with --dst, and --copy never deletes', async () => {
  const { base, src, dst } = srcDst();
  fs.writeFileSync(path.join(src, 'a'), 'A');
  fs.writeFileSync(path.join(dst, 'extra'), 'E');
  const p = plan(src, dst, '--copy');
  assert.deepEqual(records(p).filter((x) => x.op).map((x) => x.op), ['copy', 'meta']);
  const other = path.join(base, 'other');
  fs.mkdirSync(other);
  const r = await run('cairn-apply', ['--dst', other], { input: p });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(fs.readFileSync(path.join(other, 'a'), 'utf8'), 'A');
  assert.equal(records(r.stdout)[0]!.dst, other);
  assert.deepEqual(fs.readdirSync(dst), ['extra']);
});

test('--versions keeps replaced and deleted files as numbered versions', () => {
  const { src, dst } = srcDst();
  fs.writeFileSync(path.join(src, 'f'), 'v2');
  fs.writeFileSync(path.join(dst, 'f'), 'v1');
  fs.writeFileSync(path.join(dst, 'del'), 'bye');
  // Same size, and written within one clock tick: only the time tells them apart.
  setTime(path.join(dst, 'f'), '2010-01-01 00:00:00');
  let r = sh(`set -o pipefail; cairn-diff ${q(src)} ${q(dst)} | cairn-plan --mirror --versions --max-delete=off | cairn-apply > /dev/null`);
  assert.equal(r.code, 0, r.stderr);
  fs.writeFileSync(path.join(src, 'f'), 'v3');
  setTime(path.join(src, 'f'), '2030-01-01 00:00:00');
  r = sh(`set -o pipefail; cairn-diff ${q(src)} ${q(dst)} | cairn-plan --mirror --versions --max-delete=off | cairn-apply > /dev/null`);
  assert.equal(r.code, 0, r.stderr);
  const v = path.join(dst, '.cairn-versions');
  assert.equal(fs.readFileSync(path.join(dst, 'f'), 'utf8'), 'v3');
  assert.equal(fs.readFileSync(path.join(v, 'f.1'), 'utf8'), 'v1');
  assert.equal(fs.readFileSync(path.join(v, 'f.2'), 'utf8'), 'v2');
  assert.equal(fs.readFileSync(path.join(v, 'del.1'), 'utf8'), 'bye');
  // The versions are not extras to delete on the next run.
  const again = records(plan(src, dst, '--mirror --versions --max-delete=off'));
  assert.deepEqual(again.filter((x) => x.op), []);
});

test('--max-delete refuses the whole plan when more would be deleted', () => {
  const { src, dst } = srcDst();
  fs.writeFileSync(path.join(src, 'keep'), 'k');
  fs.writeFileSync(path.join(dst, 'keep'), 'k');
  for (let i = 0; i < 4; i++) fs.writeFileSync(path.join(dst, `x${i}`), 'x');
  let r = sh(`cairn-diff ${q(src)} ${q(dst)} | cairn-plan --mirror`);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, 'cairn-plan: refused: the plan deletes 4 objects, more than --max-delete allows: 2 (50% of 5 destination entries); nothing written (raise --max-delete, or --max-delete=off)\n');
  r = sh(`cairn-diff ${q(src)} ${q(dst)} | cairn-plan --mirror --max-delete 4`);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(records(r.stdout).filter((x) => x.op === 'remove').length, 4);
});

test('--kill deletes matching files on the destination and never copies them', () => {
  const { src, dst } = srcDst();
  fs.writeFileSync(path.join(src, 'Thumbs.db'), 't');
  fs.writeFileSync(path.join(src, 'a'), 'a');
  fs.writeFileSync(path.join(dst, 'a'), 'a');
  fs.writeFileSync(path.join(dst, 'Thumbs.db'), 'junk');
  fs.mkdirSync(path.join(dst, 'sub'));
  fs.writeFileSync(path.join(dst, 'sub', 'Thumbs.db'), 'junk');
  setTime(path.join(dst, 'a'), '2020-01-01 00:00:00');
  setTime(path.join(src, 'a'), '2020-01-01 00:00:00');
  const refused = sh(`cairn-diff ${q(src)} ${q(dst)} | cairn-plan --copy --kill Thumbs.db`);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /--kill needs every path, not only differences: make the changes with cairn-diff --all/);
  const r = sh(`set -o pipefail; cairn-diff --all ${q(src)} ${q(dst)} | cairn-plan --copy --kill Thumbs.db | cairn-apply > /dev/null`);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(fs.readdirSync(dst).sort(), ['a', 'sub']);
  assert.deepEqual(fs.readdirSync(path.join(dst, 'sub')), []);
});

test('--newer-than copies only recent files and deletes nothing older; --lazy-mkdir makes no empty directories', () => {
  const { src, dst } = srcDst();
  fs.mkdirSync(path.join(src, 'empty'));
  fs.mkdirSync(path.join(src, 'old'));
  fs.writeFileSync(path.join(src, 'old', 'o'), 'o');
  fs.writeFileSync(path.join(src, 'n'), 'n');
  setTime(path.join(src, 'old', 'o'), '2001-01-01 00:00:00');
  setTime(path.join(src, 'n'), '2024-06-01 00:00:00');
  const r = sh(`set -o pipefail; cairn-diff ${q(src)} ${q(dst)} | cairn-plan --copy --newer-than 2024-01-01 --lazy-mkdir --stats | cairn-apply > /dev/null`);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(fs.readdirSync(dst), ['n']);
  assert.match(r.stderr, /left alone: 1 files older than --newer-than/);
});

test('--force rewrites every file whatever the comparison says (and needs diff --all)', () => {
  const { src, dst } = srcDst();
  fs.writeFileSync(path.join(src, 'f'), 'good');
  fs.writeFileSync(path.join(dst, 'f'), 'rot!');
  // Same size and time: only the content differs, which no comparison without hashes sees.
  setTime(path.join(src, 'f'), '2020-01-01 00:00:00');
  setTime(path.join(dst, 'f'), '2020-01-01 00:00:00');
  assert.deepEqual(records(plan(src, dst)).filter((x) => x.op && x.path !== '.'), []);
  const r = sh(`set -o pipefail; cairn-diff --all ${q(src)} ${q(dst)} | cairn-plan --mirror --force | cairn-apply > /dev/null`);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(fs.readFileSync(path.join(dst, 'f'), 'utf8'), 'good');
});

test('.cairn-versions is never touched, with --versions or without', () => {
  const { src, dst } = srcDst();
  fs.writeFileSync(path.join(src, 'f'), 'x');
  fs.mkdirSync(path.join(dst, '.cairn-versions'));
  fs.writeFileSync(path.join(dst, '.cairn-versions', 'f.1'), 'old');
  const actions = records(plan(src, dst)).filter((x) => x.op);
  assert.deepEqual(actions.filter((x) => String(x.path).startsWith('.cairn-versions')), []);
  const r = sh(`set -o pipefail; cairn-diff ${q(src)} ${q(dst)} | cairn-plan --mirror --max-delete=off | cairn-apply > /dev/null`);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(fs.readFileSync(path.join(dst, '.cairn-versions', 'f.1'), 'utf8'), 'old');
});

test('--dry-run re-checks expect: an object changed since the scan is reported stale, exit 1', async () => {
  const { src, dst } = srcDst();
  fs.writeFileSync(path.join(dst, 'old'), 'y');
  const p = plan(src, dst);
  fs.writeFileSync(path.join(dst, 'old'), 'changed');
  const r = await run('cairn-apply', ['--dry-run'], { input: p });
  assert.equal(r.code, 1);
  assert.deepEqual(records(r.stdout).filter((x) => x.op === 'remove').map((x) => [x.path, x.status]), [['old', 'stale']]);
  assert.equal(fs.readFileSync(path.join(dst, 'old'), 'utf8'), 'changed');
});

test('a plan file changed on disk while it is carried out changes nothing of the run: what was checked is what is done', async () => {
  const { src, dst } = srcDst();
  // Long names make a plan of several MiB, which the second pass reads a MiB at a time while it copies.
  const long = 'n'.repeat(240);
  const dir = `d/${'m'.repeat(200)}`;
  fs.mkdirSync(path.join(src, dir), { recursive: true });
  const count = 5000;
  for (let i = 0; i < count; i++) fs.writeFileSync(path.join(src, dir, `${long}${String(i).padStart(5, '0')}`), `file ${i}\n`);
  const file = path.join(path.dirname(src), 'plan.ndjson');
  const made = sh(`set -o pipefail; cairn-diff ${q(src)} ${q(dst)} | cairn-plan --mirror >${q(file)}`);
  assert.equal(made.code, 0, made.stderr);
  const text = fs.readFileSync(file, 'utf8');
  assert.ok(text.length > 2 << 20, `plan of ${text.length} bytes`);
  const lines = text.split('\n');
  // The last copy (directory times close the plan).
  let last = lines.length - 1;
  while (!lines[last]!.startsWith('{"op":"copy"')) last--;
  assert.ok(last > lines.length / 2);
  const at = Buffer.byteLength(lines.slice(0, last).join('\n')) + 1 + Buffer.byteLength(lines[last]!.slice(0, lines[last]!.indexOf('"op":"copy"')));
  const child = run('cairn-apply', [file]);
  // Nothing is done before the whole plan has been checked: the first file in the destination says the second pass is under way.
  const d = path.join(dst, dir);
  for (let waited = 0; !(fs.existsSync(d) && fs.readdirSync(d).some((n) => !n.startsWith('.cairn-tmp'))); waited++) {
    assert.ok(waited < 20000, 'apply never began');
    await new Promise((r) => setTimeout(r, 1));
  }
  // A line broken near the end, then the file cut short: the run carries out the plan it checked.
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, '"op":"cppy"', at);
  fs.ftruncateSync(fd, Math.floor(text.length / 2));
  fs.closeSync(fd);
  const r = await child;
  assert.equal(r.stderr, '');
  assert.equal(r.code, 0);
  const done = records(r.stdout).filter((x) => x.op === 'copy');
  assert.equal(done.length, count);
  for (const x of done) assert.equal(x.status, 'done', JSON.stringify(x));
  const names = fs.readdirSync(d);
  assert.equal(names.length, count);
  for (const n of names) assert.equal(fs.readFileSync(path.join(d, n), 'utf8'), `file ${Number(n.slice(long.length))}\n`);
});
