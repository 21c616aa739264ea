import { createHash } from 'node:crypto';
import { VERSIONS_DIR, type Action, type EntryBody } from '../records/types';
import { fsPathOf } from '../tree/local/fs-path';
import { StaleError } from '../tree/local/write';
import { fatalS3, S3Failure, type Bucket } from '../tree/s3/bucket';
import { keyOf, keyProblem, markerOf } from '../tree/s3/location';
import { metaOf, metaSha256, mtimeMeta, type ObjectInfo, type ObjectMeta } from '../tree/s3/meta';
import { Limiter } from '../tree/s3/limiter';
import { allowInterruptGrace } from '../cli/command';
import { fileSource, objectMismatch, objectSource } from '../tree/s3/sources';
import { PART_SIZE, upload, type ByteSource } from '../tree/s3/upload';
import { FatalApplyError, type Outcome } from './applier';

export interface S3ApplierOptions {
  dst: Bucket;
  /** Where copies read from: a local root, or a bucket. */
  src: string | Bucket;
  versions: string | null;
  dryRun: boolean;
  verify: boolean;
  /** Modes and owners go into the metadata only when the source keeps them. */
  perms: boolean;
  owners: boolean;
  interrupted: () => boolean;
}

/** A server-side copy takes objects up to 5 GiB; larger ones are copied in parts through this machine. */
const COPY_LIMIT = 5 * 1024 ** 3;
const BATCH_MAX = 1000;

/**
 * Carries out a plan's actions on object storage. A PUT (or a completed
 * multipart upload) is atomic, so an object appears whole or not at all;
 * what the plan saw is checked by a HEAD right before each action that
 * touches an existing object. Transfers run `-j` at once, results keep
 * plan order (cairn-apply awaits them in turn); deletes go out in batches.
 */
export class S3Applier {
  /** How many actions cairn-apply may have in flight: the bucket's limiter bounds the requests, `transfers` the bytes held. */
  readonly inflight = 1024;
  /**
   * Copies at once (`-j`): each holds its file (up to 16 MiB) or four parts
   * in memory while it is sent, so memory is bounded by -j, not by how many
   * actions wait; multipart uploads, 64 MiB each, go two at a time.
   */
  private readonly transfers: Limiter;
  private readonly multipart = new Limiter(2);
  private batch: Array<{ key: string; done: (why: string | undefined) => void; fail: (err: unknown) => void }> = [];
  /** Removes checking their object, on their way to the batch. */
  private removing = 0;

  constructor(private readonly o: S3ApplierOptions) {
    this.transfers = new Limiter(o.dst.o.jobs);
    allowInterruptGrace(30_000);
  }

  /** Everything but rmdir (which needs the removes before it done) and the root. */
  concurrent(a: Action): boolean {
    return a.op !== 'rmdir' && a.op !== 'move' && a.path !== '.';
  }

  dropTemp(): void {
    // Nothing to remove: objects appear only whole; unfinished uploads are aborted where they fail.
  }

  /** The last action on each path: actions on one path (remove then mkdir, mkdir then meta) must not overtake each other. */
  private readonly chains = new Map<string, Promise<unknown>>();

  async run(a: Action): Promise<Outcome> {
    const k = a.path;
    const before = this.chains.get(k);
    const p = (before ?? Promise.resolve()).then(() => this.guarded(a));
    this.chains.set(k, p);
    try {
      return await p;
    } finally {
      if (this.chains.get(k) === p) this.chains.delete(k);
    }
  }

  private async guarded(a: Action): Promise<Outcome> {
    // After ^C, what has not started does not start (what has, finishes or is aborted).
    if (this.o.interrupted()) return { status: 'skipped', error: 'interrupted before it started' };
    try {
      return await (a.op === 'copy' || a.op === 'update' ? this.transfers.run(() => this.once(a)) : this.once(a));
    } catch (err) {
      if (err instanceof StaleError) return { status: 'stale', error: err.message };
      // A server-side copy whose source is no longer the object checked: If-Match failed.
      if (err instanceof S3Failure && err.status === 412) return { status: 'stale', error: 'changed since the scan (the server found another version than the one checked)' };
      const fatal = fatalS3(err);
      if (fatal !== undefined) throw new FatalApplyError(a.path, fatal.why, false);
      return { status: 'failed', error: (err as Error).message };
    }
  }

  private key(rel: string): string {
    return keyOf(this.o.dst.loc, rel);
  }

  /** Re-checks what is at `rel` against what the plan saw there. */
  private async expectAt(rel: string, expect: EntryBody | undefined, forDir = false): Promise<ObjectInfo | undefined> {
    if (expect?.type === 'dir' || forDir) {
      // A directory is there as long as something has its prefix; only a file of its name contradicts it.
      const file = rel === '.' ? undefined : await this.o.dst.head(this.key(rel));
      if (file !== undefined) throw new StaleError('changed since the scan: an object of this name is there');
      return this.o.dst.head(markerOf(this.o.dst.loc, rel));
    }
    const info = await this.o.dst.head(this.key(rel));
    if (expect === undefined) {
      if (info !== undefined) throw new StaleError('changed since the scan: something is there now');
      return undefined;
    }
    const why = objectMismatch(info, expect);
    if (why !== undefined) throw new StaleError(why);
    return info;
  }

  /** Modes and owners travel only where the source keeps them (a FAT source's are made up). */
  private attrs(e: EntryBody): EntryBody {
    const { mode, uid, gid, ...rest } = e;
    return { ...rest, ...(this.o.perms && mode !== undefined ? { mode } : {}), ...(this.o.owners && uid !== undefined ? { uid, gid } : {}) } as EntryBody;
  }

  private async once(a: Action): Promise<Outcome> {
    if (a.op === 'agree') return { status: this.o.dryRun ? 'dry-run' : 'done' };
    if (a.op === 'conflict') return { status: 'conflict', error: a.why! };
    if (a.op === 'store' || a.op === 'tombstone') throw new Error(`${a.op}: archive plans are laid out by cairn-apply --dst, not applied`);
    const bad = a.path === '.' ? undefined : keyProblem(this.o.dst.loc, a.path, a.path_b64);
    if (bad !== undefined) return { status: 'failed', error: bad };
    if (this.o.dryRun) {
      if (a.op === 'move') {
        await this.expectAt(a.from!, a.expect);
        await this.expectAt(a.path, undefined);
      } else if (a.op === 'mkdir') await this.expectAt(a.path, undefined, true).then(() => undefined);
      else if (!(a.op === 'meta' && a.expect === undefined)) await this.expectAt(a.path, a.expect);
      return { status: 'dry-run' };
    }
    switch (a.op) {
      case 'mkdir': {
        await this.expectAt(a.path, undefined, true);
        await this.o.dst.put(markerOf(this.o.dst.loc, a.path), Buffer.alloc(0), metaOf(this.attrs(a.src ?? { type: 'dir', mtime: nowTime() } as EntryBody), undefined));
        return { status: 'done' };
      }
      case 'copy':
      case 'update':
        return this.copy(a);
      case 'symlink': {
        const info = await this.expectAt(a.path, a.expect);
        const kept = info !== undefined ? await this.keep(a, info) : undefined;
        const src = this.attrs(a.src!);
        await this.o.dst.put(this.key(a.path), Buffer.from(src.target ?? ''), metaOf(src, undefined));
        return { status: 'done', ...(kept !== undefined ? { kept } : {}) };
      }
      case 'special':
        return { status: 'failed', error: `object storage holds no ${a.src?.type ?? 'special file'}s` };
      case 'meta':
        return this.meta(a);
      case 'move': {
        const info = await this.expectAt(a.from!, a.expect);
        await this.expectAt(a.path, undefined);
        await this.o.dst.copy({ bucket: this.o.dst.loc.bucket, key: this.key(a.from!), ...(info !== undefined ? { etag: info.etag } : {}) }, this.key(a.path));
        await this.delete(this.key(a.from!));
        return { status: 'done' };
      }
      case 'remove': {
        // Counted from its start: the batch goes out when no remove is still on its way to it.
        this.removing++;
        let joined: Promise<void> | undefined;
        try {
          const info = await this.expectAt(a.path, a.expect);
          const kept = await this.keep(a, info);
          joined = this.delete(this.key(a.path));
          this.removing--;
          this.sendIfReady();
          await joined;
          return { status: 'done', ...(kept !== undefined ? { kept } : {}) };
        } finally {
          if (joined === undefined) {
            this.removing--;
            this.sendIfReady();
          }
        }
      }
      case 'rmdir': {
        const marker = markerOf(this.o.dst.loc, a.path);
        const left = await this.o.dst.list(marker, undefined, undefined, 2);
        if (left.objects.some((o) => o.key !== marker) || left.prefixes.length > 0) return { status: 'skipped', error: 'ENOTEMPTY: holds objects the plan did not see (excluded?)' };
        if (left.objects.length > 0) await this.delete(marker);
        return { status: 'done' };
      }
    }
  }

  private async copy(a: Action): Promise<Outcome> {
    const src = a.src!;
    const key = this.key(a.path);
    const info = await this.expectAt(a.path, a.expect);
    const want = src.hash;
    const meta = metaOf(this.attrs(src), undefined);
    let kept: string | undefined;
    let source: ByteSource & { close?(): void };
    if (typeof this.o.src === 'string') source = fileSource(fsPathOf(this.o.src, a.path, a.path_b64), src);
    else {
      const from = this.o.src;
      const obj = await objectSource(from, keyOf(from.loc, a.path), src);
      if (obj.size <= COPY_LIMIT) {
        // Within one service the server copies, only the version checked. The copy gets the source's
        // metadata with the time and attributes of the plan's entry, so an object that had no mtime of
        // its own (LastModified) does not look changed at the destination on the next run.
        const sha = metaSha256(obj.info);
        // What the object's metadata says of its bytes must be what the plan saw (the time and size are checked already).
        if (sha !== undefined && want?.startsWith('sha256:') && want !== `sha256:${sha}`) throw new StaleError('source changed since the scan: its content no longer has the planned hash');
        if (info !== undefined) kept = await this.keep(a, info);
        await this.o.dst.copy({ bucket: from.loc.bucket, key: keyOf(from.loc, a.path), etag: obj.info.etag }, key, { ...(obj.info.meta ?? {}), ...metaOf(this.attrs(src), sha) });
        if (this.o.verify) await this.verify(key, sha ?? (await this.hashOf(from, keyOf(from.loc, a.path))));
        return { status: 'done', bytes: obj.size, ...(kept !== undefined ? { kept } : {}) };
      }
      source = obj;
    }
    try {
      if (info !== undefined) kept = await this.keep(a, info);
      const r = await (source.size > PART_SIZE ? this.multipart.run(() => upload(this.o.dst, key, source, meta, want, this.o.interrupted)) : upload(this.o.dst, key, source, meta, want, this.o.interrupted));
      if (this.o.verify) await this.verify(key, r.sha256);
      return { status: 'done', bytes: source.size, ...(kept !== undefined ? { kept } : {}) };
    } finally {
      source.close?.();
    }
  }

  /** The sha256 of an object's bytes, read. */
  private async hashOf(bucket: Bucket, key: string): Promise<string> {
    const h = createHash('sha256');
    await bucket.download(key, (b) => void h.update(b));
    return h.digest('hex');
  }

  /** --verify: reads the object back and compares its hash with what was sent. */
  private async verify(key: string, sha256: string): Promise<void> {
    const got = await this.hashOf(this.o.dst, key);
    if (got !== sha256) throw new Error(`EIO: verification failed: sha256:${got} read back, sha256:${sha256} sent`);
  }

  /** The metadata of an object with a meta action's `set` applied (only what the source keeps). */
  private withSet(meta: ObjectMeta | undefined, set: Action['set']): ObjectMeta {
    const out: ObjectMeta = { ...(meta ?? {}) };
    const s = this.attrs({ type: 'file', mtime: '', ...set } as EntryBody);
    if (s.mtime !== '') out.mtime = mtimeMeta(s.mtime);
    if (s.mode !== undefined) out.mode = s.mode;
    if (s.uid !== undefined) out.uid = String(s.uid);
    if (s.gid !== undefined) out.gid = String(s.gid);
    return out;
  }

  private async meta(a: Action): Promise<Outcome> {
    // A meta without expect follows a mkdir (directory times are set after their contents) or a move: a directory, unless an object has the name.
    const object = a.path === '.' || a.expect?.type === 'dir' ? undefined : a.expect !== undefined ? await this.expectAt(a.path, a.expect) : await this.o.dst.head(this.key(a.path));
    if (object === undefined && a.expect !== undefined && a.expect.type !== 'dir') throw new StaleError('gone: the object to set attributes on is not there');
    if (object === undefined) {
      if (a.path === '.' && this.o.dst.loc.prefix === '') return { status: 'done' }; // the bucket itself has no marker
      const marker = markerOf(this.o.dst.loc, a.path);
      const now = await this.o.dst.head(marker);
      // A marker made now keeps the attributes not set: a new one without a time of its own gets the present.
      const base = now?.meta ?? metaOf({ type: 'dir', mtime: nowTime() } as EntryBody, undefined);
      await this.o.dst.put(marker, Buffer.alloc(0), this.withSet(base, a.set));
      return { status: 'done' };
    }
    // Onto itself, only from the version checked: another client's new content never gets the old hash.
    await this.o.dst.copy({ bucket: this.o.dst.loc.bucket, key: this.key(a.path), etag: object.etag }, this.key(a.path), this.withSet(object.meta, a.set));
    return { status: 'done' };
  }

  /** --versions: copies the object about to be replaced or removed (the version checked) to `.cairn-versions/<path>.<N>`. */
  private async keep(a: Action, info: ObjectInfo | undefined): Promise<string | undefined> {
    if (!a.keep || this.o.versions === null) return undefined;
    const base = `${this.o.versions ?? VERSIONS_DIR}/${a.path}`;
    const stem = `${this.key(base)}.`;
    let n = 1;
    let token: string | undefined;
    do {
      const page = await this.o.dst.list(stem, '/', token);
      for (const o of page.objects) {
        const m = /^\d+$/.exec(o.key.slice(stem.length));
        if (m !== null) n = Math.max(n, Number(m[0]) + 1);
      }
      token = page.next;
    } while (token !== undefined);
    const rel = `${base}.${n}`;
    await this.o.dst.copy({ bucket: this.o.dst.loc.bucket, key: this.key(a.path), ...(info !== undefined ? { etag: info.etag } : {}) }, this.key(rel));
    return rel;
  }

  /**
   * Deletes go out together: up to 1000 in one request, sent when the
   * batch is full or when no remove is still being checked (so a run of
   * removes is one request per 1000, whatever their HEADs take).
   */
  private delete(key: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.batch.push({
        key,
        done: (why) => (why === undefined ? resolve() : reject(new Error(why))),
        fail: reject,
      });
      this.sendIfReady();
    });
  }

  private sendIfReady(): void {
    if (this.batch.length >= BATCH_MAX || (this.removing === 0 && this.batch.length > 0)) this.send();
  }

  private send(): void {
    const batch = this.batch;
    this.batch = [];
    if (batch.length === 0) return;
    this.o.dst.deleteMany(batch.map((b) => b.key)).then(
      (failed) => {
        for (const b of batch) b.done(failed.get(b.key));
      },
      (err: unknown) => {
        for (const b of batch) b.fail(err);
      },
    );
  }
}

function nowTime(): string {
  const ms = Date.now();
  return `${new Date(ms).toISOString().slice(0, 19)}.${String((ms % 1000) * 1e6).padStart(9, '0')}Z`;
}
