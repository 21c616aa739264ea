import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as Sdk from '@aws-sdk/client-s3';
import { CairnError, FatalIoError } from '../../cli/errors';
import { EXIT } from '../../cli/exit-codes';
import { s3Root, type S3Location } from './location';
import { Limiter } from './limiter';
import type { ObjectInfo, ObjectMeta } from './meta';
import { describeS3Error, withRetry } from './retry';
import { Signer, encodeKeyPath, type Credentials } from './sigv4';

/** Where requests of the fast path go: scheme, host (with port), and the path of the bucket. */
interface Target {
  https: boolean;
  host: string;
  port: number | undefined;
  /** `/bucket` (path-style) or `` (virtual-hosted). */
  base: string;
}

function targetOf(endpoint: string | undefined, bucket: string, region: string, pathStyle: boolean): Target {
  if (endpoint !== undefined && endpoint !== '') {
    const u = new URL(endpoint);
    const prefix = u.pathname.replace(/\/+$/, '');
    return { https: u.protocol === 'https:', host: u.host, port: u.port !== '' ? Number(u.port) : undefined, base: `${prefix}/${bucket}` };
  }
  // AWS itself: virtual-hosted where the bucket name is a DNS label, as the SDK does.
  if (!pathStyle && !bucket.includes('.')) return { https: true, host: `${bucket}.s3.${region}.amazonaws.com`, port: undefined, base: '' };
  return { https: true, host: `s3.${region}.amazonaws.com`, port: undefined, base: `/${bucket}` };
}

export interface S3Options {
  /** `--endpoint URL`, else AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, else AWS itself. */
  endpoint?: string;
  /** Requests in flight at once (`-j`). */
  jobs: number;
  /** Tries per request, the first included. */
  tries: number;
}

export const DEFAULT_JOBS = 8;
export const DEFAULT_TRIES = 6;

/** One page of a listing. */
export interface Listing {
  objects: Array<{ key: string } & ObjectInfo>;
  prefixes: string[];
  next?: string;
}

/** A listing that says it goes on must say where: stopping there would make the rest look deleted. */
function nextToken(token: string | undefined, prefix: string): string {
  if (token === undefined || token === '') throw Object.assign(new Error(`the listing of ${prefix} is truncated but gives no continuation token`), { name: 'BadListing', $metadata: { httpStatusCode: 400 } });
  return token;
}

/** The region: AWS_REGION, AWS_DEFAULT_REGION, the profile's, else us-east-1 (what S3-compatible servers take). */
function region(): string {
  const env = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (env) return env;
  const file = process.env.AWS_CONFIG_FILE ?? path.join(os.homedir(), '.aws', 'config');
  const profile = process.env.AWS_PROFILE ?? 'default';
  try {
    let inProfile = false;
    for (const raw of fs.readFileSync(file, 'utf8').split('\n')) {
      const line = raw.trim();
      const section = /^\[(?:profile\s+)?([^\]]+)\]$/.exec(line);
      if (section) inProfile = section[1]!.trim() === profile;
      else if (inProfile) {
        const kv = /^region\s*=\s*(\S+)/.exec(line);
        if (kv) return kv[1]!;
      }
    }
  } catch {
    // No config file: the default below.
  }
  return 'us-east-1';
}

let sdk: typeof Sdk | undefined;

/** The SDK is loaded only for an s3:// location: local commands start as fast as before. */
function loadSdk(): typeof Sdk {
  // It warns on stderr about Node versions it will stop supporting; our stderr is for our own lines.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  sdk ??= require('@aws-sdk/client-s3') as typeof Sdk;
  return sdk;
}

/** `encodeURI` keeps `/`, `=`, `+`, `&`...: what servers decode as a path; `?` and `#` would end it. */
function copySource(bucket: string, key: string): string {
  return encodeURI(`${bucket}/${key}`).replace(/\?/g, '%3F').replace(/#/g, '%23');
}

function md5(body: Buffer): string {
  return createHash('md5').update(body).digest('base64');
}

function infoOf(o: { Size?: number; LastModified?: Date; ETag?: string; ContentLength?: number; Metadata?: Record<string, string> }): ObjectInfo {
  return {
    size: o.Size ?? o.ContentLength ?? 0,
    lastModified: o.LastModified ?? new Date(0),
    etag: (o.ETag ?? '').replace(/"/g, ''),
    ...(o.Metadata !== undefined ? { meta: o.Metadata } : {}),
  };
}

/**
 * One bucket, as the few requests cairn makes of it. Every request goes
 * through the limiter (`-j`) and is retried on throttling, timeouts, 5xx
 * and cut connections; a request is built anew for each try.
 */
export class Bucket {
  readonly limiter: Limiter;
  readonly root: string;

  private readonly signer: Signer;
  private creds: Promise<Credentials & { expiration?: Date }> | undefined;

  private constructor(
    private readonly sdk: typeof Sdk,
    private readonly client: Sdk.S3Client,
    readonly loc: S3Location,
    readonly o: S3Options,
    private readonly target: Target,
    private readonly agent: http.Agent,
    region: string,
  ) {
    this.limiter = new Limiter(o.jobs);
    this.root = s3Root(loc);
    this.signer = new Signer(region);
  }

  static open(loc: S3Location, o: S3Options): Bucket {
    const S3 = loadSdk();
    const endpoint = o.endpoint ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
    const keepAlive = { keepAlive: true, maxSockets: Math.max(o.jobs, 4) };
    const where = region();
    const pathStyle = (endpoint !== undefined && endpoint !== '') || process.env.AWS_S3_FORCE_PATH_STYLE === 'true';
    const target = targetOf(endpoint, loc.bucket, where, pathStyle);
    const agents = { http: new http.Agent(keepAlive), https: new https.Agent(keepAlive) };
    const client = new S3.S3Client({
      region: where,
      ...(endpoint !== undefined && endpoint !== '' ? { endpoint } : {}),
      // Servers other than AWS (MinIO, Ceph, Garage, s3rver) take path-style requests; AWS takes both.
      forcePathStyle: pathStyle,
      // Retries are ours (withRetry), so that a body read from a file can be read again.
      maxAttempts: 1,
      // Checksums only where the API requires them: no aws-chunked bodies, which many S3-compatible servers do not take. PUTs carry Content-MD5.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: {
        connectionTimeout: 10_000,
        requestTimeout: 120_000,
        httpAgent: agents.http,
        httpsAgent: agents.https,
      },
    });
    // DeleteObjects must carry a checksum; the SDK sends CRC32 only, which Ceph and older MinIO refuse: add Content-MD5, which all take.
    client.middlewareStack.add(
      (next) => async (args) => {
        const req = args.request as { query?: Record<string, unknown>; headers?: Record<string, string>; body?: unknown };
        if (req.query !== undefined && 'delete' in req.query && typeof req.body === 'string' && req.headers !== undefined) {
          req.headers['content-md5'] = md5(Buffer.from(req.body));
        }
        return next(args);
      },
      { step: 'build', name: 'cairnDeleteMd5' },
    );
    return new Bucket(S3, client, loc, o, target, target.https ? agents.https : agents.http, where);
  }

  /** Closes the connections (the process can then exit at once). */
  close(): void {
    this.client.destroy();
  }

  private request<T>(what: string, key: string, make: () => Promise<T>): Promise<T> {
    return this.limiter.run(() => withRetry(this.o.tries, make)).catch((err: unknown) => {
      throw asS3Error(err, `s3://${this.loc.bucket}/${key}`, what);
    });
  }

  async list(prefix: string, delimiter: string | undefined, token: string | undefined, max?: number): Promise<Listing> {
    const S3 = this.sdk;
    const r = await this.request('list', prefix, () =>
      this.client.send(
        new S3.ListObjectsV2Command({
          Bucket: this.loc.bucket,
          Prefix: prefix,
          ...(delimiter !== undefined ? { Delimiter: delimiter } : {}),
          ...(token !== undefined ? { ContinuationToken: token } : {}),
          ...(max !== undefined ? { MaxKeys: max } : {}),
        }),
      ),
    );
    return {
      objects: (r.Contents ?? []).map((o) => ({ key: o.Key!, ...infoOf(o) })),
      prefixes: (r.CommonPrefixes ?? []).map((p) => p.Prefix!),
      ...(r.IsTruncated ? { next: nextToken(r.NextContinuationToken, prefix) } : {}),
    };
  }

  /**
   * The object's size, time, ETag and metadata; undefined when there is
   * none. A scan makes one HEAD per object, and through the SDK each costs
   * about 1 ms of CPU (its middleware stack, endpoint rules, signer): here
   * it is one signed request on the same keep-alive connections, about a
   * fifth of that. Credentials still come from the SDK's provider chain.
   */
  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      return await this.request('head', key, () => this.headOnce(key));
    } catch (err) {
      if (err instanceof S3Failure && (err.status === 404 || err.code === 'NotFound' || err.code === 'NoSuchKey')) return undefined;
      throw err;
    }
  }

  private credentials(): Promise<Credentials> {
    const soon = Date.now() + 5 * 60_000;
    this.creds = this.creds?.then((c) => (c.expiration !== undefined && c.expiration.getTime() < soon ? this.client.config.credentials() : c));
    this.creds ??= this.client.config.credentials();
    // A lookup that failed (a metadata service's hiccup) is tried again next time, not kept.
    const p = this.creds;
    p.catch(() => {
      if (this.creds === p) this.creds = undefined;
    });
    return p;
  }

  private async headOnce(key: string): Promise<ObjectInfo | undefined> {
    const creds = await this.credentials();
    const t = this.target;
    const path = `${t.base}/${encodeKeyPath(key)}`;
    const headers = this.signer.headers('HEAD', t.host, path, creds);
    return new Promise((resolve, reject) => {
      const req = (t.https ? https : http).request(
        { host: t.host.replace(/:\d+$/, ''), port: t.port, method: 'HEAD', path, headers: { ...headers, host: t.host }, agent: this.agent, timeout: 120_000 },
        (res) => {
          res.resume();
          const status = res.statusCode ?? 0;
          if (status === 404) return resolve(undefined);
          if (status !== 200) {
            const name = status === 403 ? 'AccessDenied' : status === 503 ? 'SlowDown' : status === 301 ? 'PermanentRedirect' : `HTTP${status}`;
            return reject(Object.assign(new Error(`HEAD answered ${status} ${res.statusMessage ?? ''}`.trim()), { name, $metadata: { httpStatusCode: status } }));
          }
          const meta: ObjectMeta = {};
          for (const [k, v] of Object.entries(res.headers)) if (k.startsWith('x-amz-meta-') && typeof v === 'string') meta[k.slice(11)] = v;
          // Under SSE-KMS or SSE-C the ETag is not the content's MD5, though it looks like one.
          const sse = res.headers['x-amz-server-side-encryption'];
          const opaque = (typeof sse === 'string' && sse.startsWith('aws:kms')) || res.headers['x-amz-server-side-encryption-customer-algorithm'] !== undefined;
          resolve({
            size: Number(res.headers['content-length'] ?? 0),
            lastModified: new Date(res.headers['last-modified'] ?? 0),
            etag: (res.headers.etag ?? '').replace(/"/g, ''),
            meta,
            ...(opaque ? { etagNotMd5: true } : {}),
          });
        },
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error('no answer in 120 s'), { name: 'TimeoutError' })));
      req.on('error', reject);
      req.end();
    });
  }

  /**
   * Streams an object's bytes to `sink`, from `offset`. A connection cut
   * half-way resumes where it stopped (a ranged GET that must match the
   * first answer's ETag), so a retry never mixes two versions.
   */
  async download(key: string, sink: (chunk: Buffer) => void | Promise<void>, want?: { etag?: string }): Promise<ObjectInfo> {
    const S3 = this.sdk;
    let got = 0;
    let first: ObjectInfo | undefined;
    await this.request('get', key, async () => {
      const r = await this.client.send(
        new S3.GetObjectCommand({
          Bucket: this.loc.bucket,
          Key: key,
          ...(got > 0 ? { Range: `bytes=${got}-` } : {}),
          ...(first !== undefined || want?.etag !== undefined ? { IfMatch: `"${first?.etag ?? want!.etag}"` } : {}),
        }),
      );
      first ??= { ...infoOf(r), size: r.ContentLength ?? 0 };
      for await (const chunk of r.Body as AsyncIterable<Uint8Array>) {
        const b = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        await sink(b);
        got += b.length;
      }
    });
    return first!;
  }

  /** Bytes `offset` to `offset + length` of the object, which must still have ETag `etag`. */
  async readRange(key: string, offset: number, length: number, etag: string): Promise<Buffer> {
    const S3 = this.sdk;
    if (length === 0) return Buffer.alloc(0);
    return this.request('get', key, async () => {
      const r = await this.client.send(new S3.GetObjectCommand({ Bucket: this.loc.bucket, Key: key, Range: `bytes=${offset}-${offset + length - 1}`, IfMatch: `"${etag}"` }));
      const parts: Buffer[] = [];
      for await (const chunk of r.Body as AsyncIterable<Uint8Array>) parts.push(Buffer.from(chunk));
      const body = Buffer.concat(parts);
      if (body.length !== length) throw Object.assign(new Error(`short read: ${body.length} of ${length} bytes`), { name: 'ShortRead' });
      return body;
    });
  }

  /** One PUT: the whole body, with its MD5 for the server to check. */
  async put(key: string, body: Buffer, meta: ObjectMeta): Promise<void> {
    const S3 = this.sdk;
    const sum = md5(body);
    await this.request('put', key, () => this.client.send(new S3.PutObjectCommand({ Bucket: this.loc.bucket, Key: key, Body: body, ContentMD5: sum, Metadata: meta, ContentLength: body.length })));
  }

  async createUpload(key: string, meta: ObjectMeta): Promise<string> {
    const S3 = this.sdk;
    const r = await this.request('start upload', key, () => this.client.send(new S3.CreateMultipartUploadCommand({ Bucket: this.loc.bucket, Key: key, Metadata: meta })));
    return r.UploadId!;
  }

  /** One part; `read` is called for each try, so a part is read from its source again rather than held. */
  async uploadPart(key: string, id: string, n: number, read: () => Promise<Buffer>): Promise<string> {
    const S3 = this.sdk;
    const r = await this.request('upload part', key, async () => {
      const body = await read();
      return this.client.send(new S3.UploadPartCommand({ Bucket: this.loc.bucket, Key: key, UploadId: id, PartNumber: n, Body: body, ContentMD5: md5(body), ContentLength: body.length }));
    });
    return r.ETag!;
  }

  async completeUpload(key: string, id: string, etags: string[]): Promise<void> {
    const S3 = this.sdk;
    await this.request('complete upload', key, () =>
      this.client.send(
        new S3.CompleteMultipartUploadCommand({
          Bucket: this.loc.bucket,
          Key: key,
          UploadId: id,
          MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
        }),
      ),
    );
  }

  async abortUpload(key: string, id: string): Promise<void> {
    const S3 = this.sdk;
    await this.request('abort upload', key, () => this.client.send(new S3.AbortMultipartUploadCommand({ Bucket: this.loc.bucket, Key: key, UploadId: id })));
  }

  /**
   * A server-side copy; `meta` replaces the metadata, or the source's is
   * kept. `from.etag`: only while the source is still that object (a 412
   * otherwise, which callers take as stale).
   */
  async copy(from: { bucket: string; key: string; etag?: string }, key: string, meta?: ObjectMeta): Promise<void> {
    const S3 = this.sdk;
    await this.request('copy', key, () =>
      this.client.send(
        new S3.CopyObjectCommand({
          Bucket: this.loc.bucket,
          Key: key,
          CopySource: copySource(from.bucket, from.key),
          ...(from.etag !== undefined ? { CopySourceIfMatch: `"${from.etag}"` } : {}),
          ...(meta !== undefined ? { MetadataDirective: 'REPLACE', Metadata: meta } : { MetadataDirective: 'COPY' }),
        }),
      ),
    );
  }

  /** Deletes up to 1000 keys in one request; returns the keys that could not be deleted, with why. */
  async deleteMany(keys: string[]): Promise<Map<string, string>> {
    const S3 = this.sdk;
    const r = await this.request('delete', keys[0] ?? '', () =>
      this.client.send(new S3.DeleteObjectsCommand({ Bucket: this.loc.bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } })),
    );
    const failed = new Map<string, string>();
    for (const e of r.Errors ?? []) failed.set(e.Key ?? '', `${e.Code ?? 'Error'}: ${e.Message ?? ''}`);
    return failed;
  }
}

/** A request that failed for good: what it was, on which key, and the server's (or network's) reason. */
export class S3Failure extends Error {
  constructor(
    readonly url: string,
    readonly what: string,
    readonly why: string,
    readonly status: number | undefined,
    readonly code: string | undefined,
  ) {
    super(`${what}: ${why}`);
  }
}

function asS3Error(err: unknown, url: string, what: string): Error {
  if (err instanceof S3Failure || err instanceof CairnError) return err;
  const e = err as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  // No credentials at all is the user's to fix, for every request alike.
  if (e.name === 'CredentialsProviderError') return new CairnError(url, `no credentials: ${(err as Error).message} (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)`, EXIT.io);
  return new S3Failure(url, what, describeS3Error(err), e.$metadata?.httpStatusCode, e.Code ?? e.name);
}

/** Any failed request, where it ends the command (a listing a scan cannot do without): one line, exit 3. */
export function asFatal(err: unknown): unknown {
  return err instanceof S3Failure ? new FatalIoError(err.url, `${err.what}: ${err.why}`) : err;
}

/** A failure that ends a whole run (the bucket is missing, access is denied, the server is unreachable). */
export function fatalS3(err: unknown): FatalIoError | undefined {
  if (!(err instanceof S3Failure)) return undefined;
  if (err.code === 'NoSuchBucket' || err.code === 'AccessDenied' || err.code === 'InvalidAccessKeyId' || err.code === 'SignatureDoesNotMatch' || err.status === undefined) {
    return new FatalIoError(err.url, `${err.what}: ${err.why}`);
  }
  return undefined;
}
