import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before } from 'node:test';
import { BIN, records, tempDir, testNeeding } from '../helpers/run';
import { S3_ENV, faultProxy, rclone, startS3, type S3Server } from '../helpers/s3';
import { bytesOf, q, snapshot } from '../helpers/sync';

/*
 * Object storage as it really behaves: throttled, cut off mid-answer,
 * interrupted. The proxy runs in this process, so every command here runs
 * asynchronously (a synchronous child would stall the proxy).
 */
const test = testNeeding('rclone');
Object.assign(process.env, S3_ENV);
let s3: S3Server;
const MiB = 1 << 20;

before(async () => {
  s3 = await startS3('bkt');
});
after(() => s3?.stop());

function sh(script: string, onSpawn?: (pid: number) => void): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { env: { ...process.env, PATH: `${BIN}:${process.env.PATH}` }, stdio: ['ignore', 'pipe', 'pipe'] });
    onSpawn?.(child.pid!);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A file of `size` bytes, sparse but for a few random blocks (so its hash means something). */
function bigFile(p: string, size: number, seed: number): void {
  const fd = fs.openSync(p, 'w');
  fs.ftruncateSync(fd, size);
  for (let i = 0; i < 8; i++) fs.writeSync(fd, bytesOf(seed + i, MiB), 0, MiB, Math.floor(((size - MiB) * i) / 8));
  fs.closeSync(fd);
}

function sha256(p: string): string {
  return require('node:crypto').createHash('sha256').update(fs.readFileSync(p)).digest('hex') as string;
}

test('a few hundred MB go up as a multipart upload, with their sha256 in the metadata, and come back whole', async () => {
  const src = tempDir();
  bigFile(path.join(src, 'big.img'), 300 * MiB + 12345, 1);
  fs.writeFileSync(path.join(src, 'small'), 'x');
  const E = `--endpoint ${s3.endpoint}`;
  const r = await sh(`cairn-diff ${E} ${q(src)} s3://bkt/big | cairn-plan --mirror | cairn-apply ${E} -j 4`);
  assert.equal(r.code, 0, r.stderr);
  const scan = records((await sh(`cairn-scan ${E} s3://bkt/big`)).stdout);
  const big = scan.find((e) => e.path === 'big.img')!;
  assert.equal(big.size, 300 * MiB + 12345);
  assert.equal(big.hash, `sha256:${sha256(path.join(src, 'big.img'))}`);
  assert.equal((await sh(`cairn-diff ${E} --check ${q(src)} s3://bkt/big`)).code, 0);
  const out = tempDir();
  const back = await sh(`cairn-restore ${E} --from s3://bkt/big -d ${q(out)}`);
  assert.equal(back.code, 0, back.stderr);
  assert.equal(sha256(path.join(out, 'big.img')), sha256(path.join(src, 'big.img')));
});

// A tenth: at a fifth, a request fails all of its 6 tries once in 15,600, and the ~2000 requests of this test met that
// now and then (a flaky test, not a fault of cairn's); at a tenth, once in a million.
test('with a tenth of the requests throttled or cut off, the mirror still completes and checks equal; no upload is left open', { timeout: 180_000 }, async () => {
  const proxy = await faultProxy(s3.endpoint, 0.1);
  try {
    const src = tempDir();
    for (let d = 0; d < 6; d++) {
      fs.mkdirSync(path.join(src, `dir ${d}`));
      for (let i = 0; i < 40; i++) fs.writeFileSync(path.join(src, `dir ${d}`, `f=${i}+.txt`), bytesOf(d * 100 + i, 100 + i * 37));
    }
    bigFile(path.join(src, 'dir 0/multi.bin'), 40 * MiB, 9);
    const P = `--endpoint ${proxy.endpoint}`;
    // Twice: the second run also meets faults on the HEADs of a no-op.
    for (let run = 0; run < 2; run++) {
      const r = await sh(`cairn-diff ${P} ${q(src)} s3://bkt/faulty | cairn-plan --mirror | cairn-apply ${P} -j 8`);
      assert.equal(r.code, 0, `run ${run}: ${r.stderr}`);
      for (const a of records(r.stdout).slice(1, -1)) assert.equal(a.status, 'done', JSON.stringify(a));
    }
    assert.ok(proxy.counts.failed503 > 20 && proxy.counts.cut > 20, `faults injected: ${JSON.stringify(proxy.counts)}`);
    const c = await sh(`cairn-diff --endpoint ${s3.endpoint} --check --checksum=all ${q(src)} s3://bkt/faulty`);
    assert.equal(c.code, 0, c.stdout + c.stderr);
    // Every upload whose id cairn heard is completed or aborted (one whose CreateMultipartUpload answer was cut is
    // unknown to any client: cairn-apply(1) BUGS; a lifecycle rule removes it).
    for (const id of proxy.ledger.started) {
      if (!proxy.ledger.unheard.has(id)) assert.ok(proxy.ledger.completed.has(id) || proxy.ledger.aborted.has(id), `upload ${id} left open`);
    }
    assert.ok(proxy.ledger.started.size >= 1);
  } finally {
    await proxy.close();
  }
});

test('an interrupted upload leaves no object under its key and its multipart upload aborted; the next run completes it', { timeout: 180_000 }, async () => {
  const proxy = await faultProxy(s3.endpoint, 0);
  try {
    const src = tempDir();
    bigFile(path.join(src, 'huge.bin'), 400 * MiB, 3);
    const P = `--endpoint ${proxy.endpoint}`;
    let pid = 0;
    const started = sh(`exec cairn-apply ${P} -j 2 <(cairn-diff ${P} ${q(src)} s3://bkt/cut | cairn-plan --mirror)`, (p) => (pid = p));
    // Once parts are on their way, SIGINT, as a user's ^C.
    const t0 = Date.now();
    while (proxy.ledger.started.size === 0 && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 300));
    process.kill(pid, 'SIGINT');
    const r = await started;
    assert.equal(r.code, 130, r.stderr);
    assert.equal(proxy.ledger.started.size, 1);
    const [id] = [...proxy.ledger.started];
    assert.ok(!proxy.ledger.completed.has(id!), 'the upload was not completed');
    assert.ok(proxy.ledger.aborted.has(id!), 'the upload was aborted');
    const listed = rclone(s3.endpoint, ['lsf', 't:bkt/cut']);
    assert.equal(listed.status, 0, listed.stderr);
    assert.equal(listed.stdout, '', 'no object under the final key');
    const again = await sh(`cairn-diff ${P} ${q(src)} s3://bkt/cut | cairn-plan --mirror | cairn-apply ${P}`);
    assert.equal(again.code, 0, again.stderr);
    const out = tempDir();
    assert.equal((await sh(`cairn-restore --endpoint ${s3.endpoint} --from s3://bkt/cut -d ${q(out)}`)).code, 0);
    assert.deepEqual(snapshot(out), snapshot(src));
  } finally {
    await proxy.close();
  }
});

test('what goes over the wire: removes go out in one DeleteObjects, not one DELETE each; --verify reads back every upload, and only with it', async () => {
  const proxy = await faultProxy(s3.endpoint, 0);
  try {
    const src = tempDir();
    for (let i = 0; i < 30; i++) fs.writeFileSync(path.join(src, `f${i}`), bytesOf(i, 100 + i));
    const P = `--endpoint ${proxy.endpoint}`;
    const mirror = async (apply: string) => {
      proxy.byKind.clear();
      const r = await sh(`cairn-diff ${P} ${q(src)} s3://bkt/wire | cairn-plan --mirror --max-delete=off | cairn-apply ${P} ${apply}`);
      assert.equal(r.code, 0, r.stderr);
      return Object.fromEntries(proxy.byKind);
    };
    const plain = await mirror('');
    // GETs are listings: cairn-diff's of the prefix, cairn-apply's check that the bucket is there.
    assert.equal(plain.GET ?? 0, 2, `two listings, no object read: ${JSON.stringify(plain)}`);
    for (let i = 0; i < 30; i++) fs.writeFileSync(path.join(src, `f${i}`), bytesOf(i + 100, 200 + i));
    const verified = await mirror('--verify');
    assert.equal(verified.GET, 2 + 30, `the listings and 30 reads back: ${JSON.stringify(verified)}`);
    for (let i = 0; i < 30; i++) fs.rmSync(path.join(src, `f${i}`));
    const removed = await mirror('');
    // Batched: a batch goes out when no remove is still being checked, so a plan read as it streams in may
    // make more than one; never one request per remove.
    assert.ok(removed['POST ?delete']! >= 1 && removed['POST ?delete']! <= 3, JSON.stringify(removed));
    assert.equal(removed.DELETE ?? 0, 0, JSON.stringify(removed));
    assert.equal(rclone(s3.endpoint, ['lsf', 't:bkt/wire']).stdout, '');
  } finally {
    await proxy.close();
  }
});
