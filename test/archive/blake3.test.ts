import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readCatalog } from '../helpers/archive';
import { records, tempDir, testNeeding } from '../helpers/run';
import { bash, bytesOf, hashOf, q } from '../helpers/sync';

/** Checked against other tools: skipped, saying which, where one is missing. */
const test = testNeeding('b3sum', 'tar');

/*
 * A catalog hashed with BLAKE3, end to end with the real executables:
 * cairn-scan --hash blake3 | cairn-plan --archive | cairn-pack, the hashes
 * in the descriptors checked with b3sum(1), the tars read by GNU tar, and
 * cairn-restore checking every file and every part of a split file against
 * those hashes: a byte changed on a medium is refused, not restored.
 */

function run(script: string): string {
  const r = bash(script);
  assert.equal(r.code, 0, `${script}\n${r.stderr}`);
  return r.stdout;
}

const base = tempDir('cairn-blake3-');
const src = path.join(base, 'src');
const cat = path.join(base, 'cat');
const files: Record<string, Buffer> = {
  // A directory before the first file (in canonical order, and so in the tar).
  'a-dir/x.txt': Buffer.from('in a directory\n'),
  'a.txt': Buffer.from('alpha: a small file, read in a batch\n'),
  'sub/b.bin': bytesOf(2, 100_000),
  // Over the 16 MiB from which cairn-pack hashes in its hashing thread.
  'big.bin': bytesOf(3, 20 << 20),
  // Over the medium: split into parts, each with its own hash.
  'split.bin': bytesOf(4, 40 << 20),
};
fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
fs.mkdirSync(path.join(src, 'a-dir'));
fs.mkdirSync(cat);
for (const [name, data] of Object.entries(files)) fs.writeFileSync(path.join(src, name), data);
fs.symlinkSync('sub/b.bin', path.join(src, 'link'));

const tars = (): string[] =>
  fs
    .readdirSync(base)
    .filter((f) => /^vol-\d{4}\.tar$/.test(f))
    .sort()
    .map((f) => path.join(base, f));

test('blake3: the descriptors carry what b3sum says of every file and part; GNU tar reads the volumes; cairn-restore gives the tree back', () => {
  run(`set -o pipefail; cairn-scan --hash blake3 ${q(src)} | cairn-plan --archive --catalog ${q(cat)} --format tar --medium-size 32M --volumes 5 | cairn-pack -o ${q(path.join(base, 'vol-%04d.tar'))}`);
  const catalog = readCatalog(cat);
  assert.ok(catalog.length >= 2, 'split.bin needs two volumes');
  const seen: string[] = [];
  for (const d of catalog) {
    assert.equal(d.header.hash, 'blake3');
    for (const r of d.records) {
      if (r.type !== 'file') continue;
      const data = files[r.path as string]!;
      const part = r.part as { offset: number; size: number; hash: string } | undefined;
      if (part === undefined) {
        assert.equal(r.hash, `blake3:${hashOf('blake3', data)}`, `${r.path as string}: hash`);
        seen.push(r.path as string);
      } else {
        assert.equal(r.hash, `blake3:${hashOf('blake3', data)}`, `${r.path as string}: the whole file's hash`);
        assert.equal(part.hash, `blake3:${hashOf('blake3', data.subarray(part.offset, part.offset + part.size))}`, `${r.path as string}: part at ${part.offset}`);
        seen.push(`${r.path as string}@${part.offset}`);
      }
    }
  }
  assert.deepEqual(seen.filter((s) => !s.includes('@')).sort(), ['a-dir/x.txt', 'a.txt', 'big.bin', 'sub/b.bin']);
  assert.ok(seen.filter((s) => s.startsWith('split.bin@')).length >= 2, `split.bin in parts: ${seen.join(' ')}`);

  // GNU tar extracts every volume; the whole files are the source's bytes.
  const x = path.join(base, 'x');
  fs.mkdirSync(x);
  for (const t of tars()) run(`tar -xf ${q(t)} -C ${q(x)}`);
  for (const name of ['a.txt', 'sub/b.bin', 'big.bin']) assert.ok(fs.readFileSync(path.join(x, name)).equals(files[name]!), `${name} from GNU tar`);

  const out = path.join(base, 'out');
  fs.mkdirSync(out);
  const r = bash(`cairn-restore --catalog ${q(cat)} ${tars().map((t) => `--media ${q(t)}`).join(' ')} -d ${q(out)}`);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  for (const [name, data] of Object.entries(files)) assert.ok(fs.readFileSync(path.join(out, name)).equals(data), `${name} restored`);
  assert.equal(fs.readlinkSync(path.join(out, 'link')), 'sub/b.bin');
});

test('blake3: a byte changed on a medium, in a small file and in a part of the split file: both refused as not verifying, exit 1, the rest restored', () => {
  // A copy of each volume with one byte changed in the content of a.txt and of split.bin (wherever they are).
  const bad = path.join(base, 'bad');
  fs.mkdirSync(bad);
  const badTars: string[] = [];
  let hits = 0;
  for (const t of tars()) {
    const bytes = fs.readFileSync(t);
    for (const needle of [files['a.txt']!.subarray(0, 16), files['split.bin']!.subarray((30 << 20) + 4096, (30 << 20) + 4096 + 64)]) {
      const at = bytes.indexOf(needle);
      if (at >= 0) {
        bytes[at + 3] ^= 0x20;
        hits++;
      }
    }
    const copy = path.join(bad, path.basename(t));
    fs.writeFileSync(copy, bytes);
    badTars.push(copy);
  }
  assert.equal(hits, 2, 'test bug: both byte ranges found in the volumes');
  const out = path.join(base, 'out-bad');
  fs.mkdirSync(out);
  const r = bash(`cairn-restore --catalog ${q(cat)} ${badTars.map((t) => `--media ${q(t)}`).join(' ')} -d ${q(out)}`);
  assert.equal(r.code, 1, r.stderr);
  const failed = records(r.stdout)
    .filter((x) => x.status === 'failed')
    .map((x) => x.path)
    .sort();
  assert.deepEqual(failed, ['a.txt', 'split.bin'], r.stdout);
  assert.match(r.stderr, /a\.txt: does not verify: blake3:[0-9a-f]{64}, expected blake3:[0-9a-f]{64}/);
  assert.ok(!fs.existsSync(path.join(out, 'a.txt')), 'a file that does not verify is not left in place');
  assert.ok(!fs.existsSync(path.join(out, 'split.bin')), 'nor a split file with a bad part');
  for (const name of ['sub/b.bin', 'big.bin']) assert.ok(fs.readFileSync(path.join(out, name)).equals(files[name]!), `${name} restored`);
});

test('blake3 where its addon does not load: every command that would hash says so in one line, exit 2, before doing anything', () => {
  const env = `NODE_OPTIONS=${q(`--require ${path.join(__dirname, '../helpers/no-blake3.js')}`)}`;
  const why = `blake3: not available here: @napi-rs/blake-hash has no working build for ${process.platform}-${process.arch} (Cannot find module '@napi-rs/blake-hash')`;
  const w = path.join(base, 'no-b3');
  fs.mkdirSync(w);
  const refused = (cmd: string, what: string): void => {
    const r = bash(`cd ${q(w)} && ${env} ${cmd}`);
    assert.deepEqual([r.code, r.stdout, r.stderr], [2, '', `${cmd.split(' ')[0]}: ${what}: ${why}\n`], cmd);
  };
  const empty = (dir: string): void => {
    fs.mkdirSync(path.join(w, dir));
  };
  const scan = path.join(w, 'scan.ndjson');
  fs.writeFileSync(scan, run(`cairn-scan --hash blake3 ${q(src)}`));
  run(`cairn-scan ${q(src)} > ${q(path.join(w, 'plain.ndjson'))}`);

  refused(`cairn-scan --hash blake3 ${q(src)}`, '--hash');
  refused(`cairn-diff --hash blake3 ${q(src)} ${q(src)}`, '--hash');
  empty('dst');
  refused('cairn-diff --checksum scan.ndjson dst', '--checksum');

  // Archive: a new catalog's plan (made where blake3 works) is neither packed, nor grafted, nor laid out.
  const cat2 = path.join(w, 'cat2');
  fs.mkdirSync(cat2);
  fs.writeFileSync(path.join(w, 'plan.ndjson'), run(`cairn-plan --archive --catalog ${q(cat2)} --format tar --medium-size 1G ${q(scan)}`));
  refused('cairn-pack -o v.tar plan.ndjson', 'plan.ndjson');
  refused('cairn-pack scan.ndjson', 'scan.ndjson');
  refused('cairn-graft plan.ndjson', 'plan.ndjson');
  empty('laid');
  refused('cairn-apply --dst laid plan.ndjson', 'plan.ndjson');
  // Planning against the blake3 catalog hashes what the scan did not.
  refused(`cairn-plan --archive --catalog ${q(cat)} --format tar --medium-size 1G plain.ndjson`, cat);
  assert.deepEqual(fs.readdirSync(cat2), [], 'no descriptor, no temporary file');
  assert.deepEqual(fs.readdirSync(path.join(w, 'laid')), []);
  assert.ok(!fs.existsSync(path.join(w, 'v.tar')));

  // Restores: from the catalog, from a volume's tar (its descriptor comes first), from an entries stream.
  empty('r1');
  refused(`cairn-restore --catalog ${q(cat)} ${tars().map((t) => `--media ${q(t)}`).join(' ')} -d r1`, path.join(cat, 'vol-0001.ndjson'));
  empty('r2');
  const t = bash(`cd ${q(w)} && ${env} cairn-restore --tar ${q(tars()[0]!)} -d r2`);
  assert.equal(t.code, 2, t.stderr);
  assert.equal(t.stderr, `cairn-restore: ${tars()[0]!}: .cairn/vol-0001.ndjson: ${why}\n`);
  assert.equal(t.stdout, '', 'no object restored, no header');
  empty('r3');
  refused('cairn-restore --from scan.ndjson -d r3', 'scan.ndjson');
  for (const d of ['r1', 'r2', 'r3']) assert.deepEqual(fs.readdirSync(path.join(w, d)), [], `${d}: nothing written (a-dir/ comes before the first file)`);

  // A mirror plan: copied without hashing it can be, verified it cannot.
  fs.writeFileSync(path.join(w, 'mirror.ndjson'), run(`cd ${q(w)} && cairn-diff scan.ndjson dst | cairn-plan --mirror`));
  refused('cairn-apply --verify mirror.ndjson', 'mirror.ndjson');
  assert.deepEqual(fs.readdirSync(path.join(w, 'dst')), []);
  // A plan whose header names no algorithm, its sources hashed in the other side's by cairn-diff --checksum.
  fs.mkdirSync(path.join(w, 'other'));
  fs.writeFileSync(path.join(w, 'other/a.txt'), 'same size, other bytes! too\n'.padEnd(files['a.txt']!.length, '.'));
  run(`cd ${q(w)} && cairn-scan --hash blake3 other > other.ndjson`);
  fs.writeFileSync(path.join(w, 'mixed.ndjson'), run(`cd ${q(w)} && cairn-diff --checksum=all plain.ndjson other.ndjson | cairn-plan --mirror`));
  assert.match(fs.readFileSync(path.join(w, 'mixed.ndjson'), 'utf8'), /^\{"cairn":"plan"[^\n]*"hash":null[^\n]*\n[^]*"hash":"blake3:/, 'test bug: the header has no algorithm, the sources blake3 hashes');
  refused('cairn-apply --verify mixed.ndjson', 'mixed.ndjson');
  assert.equal(fs.readFileSync(path.join(w, 'other/a.txt'), 'utf8').startsWith('same size'), true, 'nothing applied');
  const plain = bash(`cd ${q(w)} && ${env} cairn-apply mirror.ndjson`);
  assert.equal(plain.code, 0, plain.stderr);
  assert.ok(fs.readFileSync(path.join(w, 'dst/big.bin')).equals(files['big.bin']!));
});
