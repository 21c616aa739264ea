import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';
import { keyOf, keyProblem, markerOf, parseS3, s3Root } from '../../lib/tree/s3/location';
import { entryOfObject, metaOf, mtimeMeta, parseMtimeMeta } from '../../lib/tree/s3/meta';
import { retryable, withRetry } from '../../lib/tree/s3/retry';
import { Signer, encodeKeyPath } from '../../lib/tree/s3/sigv4';
import { ROOT, tempDir } from '../helpers/run';

test('s3:// locations: bucket and prefix, keys and directory markers', () => {
  assert.deepEqual(parseS3('s3://my-bucket'), { bucket: 'my-bucket', prefix: '' });
  assert.deepEqual(parseS3('s3://my-bucket/a/b/'), { bucket: 'my-bucket', prefix: 'a/b' });
  const loc = parseS3('s3://bkt/p');
  assert.equal(s3Root(loc), 's3://bkt/p');
  assert.equal(keyOf(loc, 'x/y'), 'p/x/y');
  assert.equal(keyOf(loc, '.'), 'p');
  assert.equal(markerOf(loc, 'x'), 'p/x/');
  assert.equal(markerOf(parseS3('s3://bkt'), '.'), '');
  assert.throws(() => parseS3('s3://Bk'), /not a bucket name/);
  assert.throws(() => parseS3('s3://bkt/a//b'), /empty, "\." or "\.\." component/);
  assert.equal(keyProblem(loc, 'ok', undefined), undefined);
  assert.match(keyProblem(loc, 'x', 'gA==')!, /not valid UTF-8/);
  assert.match(keyProblem(loc, 'n'.repeat(1030), undefined)!, /over 1024 bytes/);
});

test('mtime metadata is rclone\'s decimal seconds, exact both ways, before 1970 too', () => {
  for (const [t, m] of [
    ['2024-03-01T10:11:12.123456789Z', '1709287872.123456789'],
    ['1970-01-01T00:00:00.000000000Z', '0.000000000'],
    ['1969-07-20T20:17:40.500000000Z', '-14182939.500000000'],
    ['1969-12-31T23:59:59.000000001Z', '-0.999999999'],
  ]) {
    assert.equal(mtimeMeta(t!), m, t);
    assert.equal(parseMtimeMeta(m!), t, m);
  }
  // What rclone writes for a time it read to the microsecond, and what other tools may write.
  assert.equal(parseMtimeMeta('1709287872.123456'), '2024-03-01T10:11:12.123456000Z');
  assert.equal(parseMtimeMeta('1709287872'), '2024-03-01T10:11:12.000000000Z');
  assert.equal(parseMtimeMeta('1e9'), undefined);
  assert.equal(parseMtimeMeta('soon'), undefined);
});

test('an object\'s entry: from cairn\'s metadata, or from LastModified and an MD5 ETag with its precision said', () => {
  const file = { type: 'file', mtime: '2024-03-01T10:11:12.123456789Z', mode: '0640', uid: 1000, gid: 100 } as const;
  const meta = metaOf(file as never, 'ab'.repeat(32));
  assert.deepEqual(meta, { mtime: '1709287872.123456789', mode: '0640', uid: '1000', gid: '100', sha256: 'ab'.repeat(32) });
  const ours = entryOfObject('file', { size: 5, lastModified: new Date(0), etag: 'cd'.repeat(16), meta }, null);
  assert.deepEqual(ours, { type: 'file', mtime: file.mtime, mode: '0640', uid: 1000, gid: 100, size: 5, hash: `sha256:${'ab'.repeat(32)}` });
  const foreign = entryOfObject('file', { size: 5, lastModified: new Date('2024-05-06T07:08:09.000Z'), etag: 'cd'.repeat(16) }, null);
  assert.deepEqual(foreign, { type: 'file', mtime: '2024-05-06T07:08:09.000000000Z', mtime_precision_ns: 1e9, size: 5, hash: `md5:${'cd'.repeat(16)}` });
  // A multipart ETag is no MD5.
  assert.equal(entryOfObject('file', { size: 5, lastModified: new Date(0), etag: `${'cd'.repeat(16)}-3` }, null).hash, undefined);
  const link = metaOf({ type: 'symlink', mtime: file.mtime, target: '../ü b' } as never, undefined);
  assert.equal(link['cairn-target'], '..%2F%C3%BC%20b');
  assert.equal(entryOfObject('symlink', { size: 6, lastModified: new Date(0), etag: '', meta: link }, null).target, '../ü b');
});

test('retries: throttling, 5xx and cut connections are tried again; other 4xx and missing credentials are not', async () => {
  assert.equal(retryable({ name: 'SlowDown', $metadata: { httpStatusCode: 503 } }), true);
  assert.equal(retryable({ name: 'InternalError', $metadata: { httpStatusCode: 500 } }), true);
  assert.equal(retryable({ name: 'TooManyRequests', $metadata: { httpStatusCode: 429 } }), true);
  assert.equal(retryable(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })), true);
  assert.equal(retryable({ name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } }), false);
  assert.equal(retryable({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }), false);
  assert.equal(retryable({ name: 'CredentialsProviderError' }), false);
  let n = 0;
  const sleeps: number[] = [];
  const v = await withRetry(4, async () => {
    if (++n < 3) throw { name: 'SlowDown', $metadata: { httpStatusCode: 503 } };
    return 'ok';
  }, async (ms) => void sleeps.push(ms));
  assert.equal(v, 'ok');
  assert.equal(n, 3);
  assert.equal(sleeps.length, 2);
  n = 0;
  await assert.rejects(withRetry(3, async () => {
    n++;
    throw { name: 'SlowDown', $metadata: { httpStatusCode: 503 } };
  }, async () => {}));
  assert.equal(n, 3, 'three tries in all');
});

test('our SigV4 signature equals the AWS SDK signer\'s for the same HEAD (odd keys, a session token)', async () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { SignatureV4 } = require('@smithy/signature-v4') as typeof import('@smithy/signature-v4');
  const { Sha256 } = { Sha256: class {
    private h = require('node:crypto').createHash('sha256');
    update(d: Uint8Array | string) { this.h.update(d); }
    async digest() { return new Uint8Array(this.h.digest()); }
  } };
  class Hmac {
    private h;
    constructor(secret?: Uint8Array | string) { this.h = secret !== undefined ? require('node:crypto').createHmac('sha256', secret) : require('node:crypto').createHash('sha256'); }
    update(d: Uint8Array | string) { this.h.update(d); }
    async digest() { return new Uint8Array(this.h.digest()); }
  }
  void Sha256;
  const now = new Date('2026-01-02T03:04:05Z');
  for (const creds of [{ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' }, { accessKeyId: 'A', secretAccessKey: 'B', sessionToken: 'T0k/en=' }]) {
    for (const key of ['p/a.txt', 'p/sp ace=+%é/x y', "p/(it's)*!~"]) {
      const pathname = `/bkt/${encodeKeyPath(key)}`;
      const ours = new Signer('eu-west-1').headers('HEAD', '127.0.0.1:9000', pathname, creds, now);
      const sdk = new SignatureV4({ credentials: creds, region: 'eu-west-1', service: 's3', sha256: Hmac as never, uriEscapePath: false, applyChecksum: true });
      const signed = await sdk.sign(
        { method: 'HEAD', protocol: 'http:', hostname: '127.0.0.1', port: 9000, path: pathname, query: {}, headers: { host: '127.0.0.1:9000', 'x-amz-content-sha256': ours['x-amz-content-sha256']! } },
        { signingDate: now },
      );
      assert.equal(ours.authorization, signed.headers.authorization, `${key} ${creds.accessKeyId}`);
    }
  }
});

test('local commands do not load the AWS SDK', () => {
  const dir = tempDir();
  const hook = path.join(dir, 'hook.js');
  require('node:fs').writeFileSync(hook, "process.on('exit', () => { if (Object.keys(require.cache).some((k) => k.includes('@aws-sdk'))) process.stderr.write('SDK LOADED\\n'); });\n");
  for (const [cmd, args] of [['cairn-scan', [dir]], ['cairn-diff', [dir, dir]]] as const) {
    const r = spawnSync(process.execPath, ['-r', hook, path.join(ROOT, 'bin', cmd), ...args], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /SDK LOADED/);
  }
  // And an s3:// location does (the check above can fail).
  const r = spawnSync(process.execPath, ['-r', hook, path.join(ROOT, 'bin', 'cairn-scan'), '--endpoint', 'http://127.0.0.1:9', 's3://bkt/x'], { encoding: 'utf8', env: { ...process.env, AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' } });
  assert.match(r.stderr, /SDK LOADED/);
});
