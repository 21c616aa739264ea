import { createHash } from 'node:crypto';
import { algOfHash, hexOf, newDigest, type Digest } from '../../hash/digest';
import { StaleError } from '../local/write';
import type { Bucket } from './bucket';
import type { ObjectMeta } from './meta';

/** Objects up to this size go up in one PUT; larger ones in parts of at least this size. */
export const PART_SIZE = 16 << 20;
/** Parts of one object in flight at once (each held in memory until it is sent). */
const PARTS_AHEAD = 4;
/** S3 takes at most 10000 parts. */
const MAX_PARTS = 10_000;

/** Where an upload's bytes come from: a range of a local file or of another object, checked when the reading is done. */
export interface ByteSource {
  size: number;
  read(offset: number, length: number): Promise<Buffer>;
  /** Throws StaleError when the source changed while it was read. */
  check(): void;
}

export interface UploadResult {
  /** sha256 hex of what was uploaded. */
  sha256: string;
}

function partSizeFor(size: number): number {
  const min = Math.ceil(size / MAX_PARTS);
  return Math.max(PART_SIZE, Math.ceil(min / (1 << 20)) * (1 << 20));
}

/**
 * Puts `src` under `key` with `meta` plus its sha256. Nothing appears under
 * the key until all of it is there (one PUT, or a multipart upload that
 * is completed last); a failed or interrupted multipart upload is aborted,
 * so no parts are left to be paid for. `want`, the hash the plan knows
 * (`alg:hex`, any algorithm), must match what is read, or the source
 * changed since the scan.
 */
export async function upload(bucket: Bucket, key: string, src: ByteSource, meta: ObjectMeta, want: string | undefined, interrupted: () => boolean): Promise<UploadResult> {
  if (src.size <= PART_SIZE) {
    const body = await src.read(0, src.size);
    src.check();
    if (interrupted()) throw new Error('interrupted');
    const sha256 = createHash('sha256').update(body).digest('hex');
    const alg = want !== undefined ? algOfHash(want) : undefined;
    if (alg !== undefined && want !== `${alg}:${alg === 'sha256' ? sha256 : hexOf(alg, body)}`) throw new StaleError('source changed since the scan: its content no longer has the planned hash');
    await bucket.put(key, body, { ...meta, sha256 });
    return { sha256 };
  }
  const part = partSizeFor(src.size);
  // The hash goes into the metadata, which is sent first: read it first when the plan does not know it.
  let sha = want !== undefined && algOfHash(want) === 'sha256' ? want.slice(7) : undefined;
  if (sha === undefined) {
    // The plan's hash in another algorithm is checked here, before any part is sent; the upload's own reading must then give this sha256.
    const h = createHash('sha256');
    const other: Digest | undefined = want !== undefined ? newDigest(algOfHash(want)) : undefined;
    for (let off = 0; off < src.size; off += part) {
      if (interrupted()) throw new Error('interrupted');
      const body = await src.read(off, Math.min(part, src.size - off));
      h.update(body);
      other?.update(body);
    }
    if (other !== undefined && `${algOfHash(want!)}:${other.digest('hex')}` !== want) throw new StaleError('source changed since the scan: its content no longer has the planned hash');
    sha = h.digest('hex');
  }
  const id = await bucket.createUpload(key, { ...meta, sha256: sha });
  const inflight: Array<Promise<void>> = [];
  try {
    const h = createHash('sha256');
    const etags: string[] = [];
    let n = 0;
    for (let off = 0; off < src.size; off += part) {
      if (interrupted()) throw new Error('interrupted');
      const body = await src.read(off, Math.min(part, src.size - off));
      h.update(body);
      const i = n++;
      const p = bucket.uploadPart(key, id, i + 1, async () => body).then((etag) => {
        etags[i] = etag;
      });
      p.catch(() => {}); // awaited below
      inflight.push(p);
      if (inflight.length >= PARTS_AHEAD) await inflight.shift();
    }
    await Promise.all(inflight);
    src.check();
    if (h.digest('hex') !== sha) throw new StaleError(want !== undefined && algOfHash(want) === 'sha256' ? 'source changed since the scan: its content no longer has the planned hash' : 'source changed while being uploaded');
    if (interrupted()) throw new Error('interrupted');
    try {
      await bucket.completeUpload(key, id, etags);
    } catch (err) {
      // A Complete whose answer was lost is tried again and finds no upload (NoSuchUpload; s3rver: a 500):
      // the object may well be there, whole. It is ours if it has the size and the sha256 we sent.
      const done = await bucket.head(key).catch(() => undefined);
      if (done === undefined || done.size !== src.size || done.meta?.sha256 !== sha) throw err;
    }
    return { sha256: sha };
  } catch (err) {
    // Parts still on their way would be stored after an abort (and paid for): let them land first.
    await Promise.allSettled(inflight);
    try {
      await bucket.abortUpload(key, id);
    } catch (abortErr) {
      (err as Error).message += `; the unfinished upload could not be aborted (${(abortErr as Error).message}): a lifecycle rule (AbortIncompleteMultipartUpload) removes it`;
    }
    throw err;
  }
}
