import { formatTime, formatTimeNs, timeParts } from '../../records/time';
import type { EntryBody, EntryType, HashAlg } from '../../records/types';

/**
 * What an object's user metadata (x-amz-meta-*) holds for cairn. `mtime`
 * is rclone's: seconds since the epoch as a decimal with a fraction, so
 * rclone and cairn read each other's times. The rest is cairn's own.
 */
export type ObjectMeta = Record<string, string>;

/** What a listing or a HEAD tells about one object. */
export interface ObjectInfo {
  size: number;
  lastModified: Date;
  /** The ETag without quotes. */
  etag: string;
  meta?: ObjectMeta;
  /** Server-side encryption with KMS or a customer key: the ETag is not an MD5. */
  etagNotMd5?: boolean;
}

/** `1700000000.123456789`, as rclone writes it (a time before 1970 as a negative decimal). */
export function mtimeMeta(mtime: string): string {
  const [sec, nsec] = timeParts(mtime);
  if (sec >= 0 || nsec === 0) return `${sec}.${String(nsec).padStart(9, '0')}`;
  // -1.5 is sec -2 plus 0.5 s.
  return `-${-sec - 1}.${String(1e9 - nsec).padStart(9, '0')}`;
}

/** Reads rclone's decimal seconds (any number of fraction digits, a sign, no exponent); undefined if it is not one. */
export function parseMtimeMeta(text: string): string | undefined {
  const m = /^(-?)(\d{1,12})(?:\.(\d{0,18}))?$/.exec(text.trim());
  if (m === null) return undefined;
  const frac = BigInt(((m[3] ?? '') + '000000000').slice(0, 9));
  const whole = BigInt(m[2]!) * 1_000_000_000n + frac;
  return formatTimeNs(m[1] === '-' ? -whole : whole);
}

/** The metadata cairn writes for an object made from an entry. */
export function metaOf(e: EntryBody, sha256: string | undefined): ObjectMeta {
  const meta: ObjectMeta = { mtime: mtimeMeta(e.mtime) };
  if (e.mode !== undefined) meta.mode = e.mode;
  if (e.uid !== undefined) meta.uid = String(e.uid);
  if (e.gid !== undefined) meta.gid = String(e.gid);
  if (sha256 !== undefined) meta.sha256 = sha256;
  if (e.type === 'symlink') {
    meta['cairn-type'] = 'symlink';
    // Header values are ASCII: the target is percent-encoded (it is also the object's body).
    meta['cairn-target'] = encodeURIComponent(e.target ?? '');
  }
  return meta;
}

const MD5_ETAG = /^[0-9a-f]{32}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/** The sha256 an object's metadata gives for its bytes, when it is one as cairn writes it (lower-case hex); another tool's spelling is not trusted. */
export function metaSha256(info: ObjectInfo): string | undefined {
  const sha = info.meta?.sha256;
  return sha !== undefined && SHA256_HEX.test(sha) ? sha : undefined;
}

/**
 * The entry of an object, from its metadata where cairn (or rclone, for
 * the time) wrote it. An object without an mtime in its metadata gets
 * LastModified, which is exact to the second only: the entry says so in
 * `mtime_precision_ns`. The hash is the sha256 of the metadata, else the
 * ETag when it is an MD5 (a single-part upload without encryption).
 */
export function entryOfObject(type: EntryType, info: ObjectInfo, alg: HashAlg | null): EntryBody {
  const meta = info.meta ?? {};
  const mtime = meta.mtime !== undefined ? parseMtimeMeta(meta.mtime) : undefined;
  const e: EntryBody = { type, mtime: mtime ?? formatTime(Math.floor(info.lastModified.getTime() / 1000), 0) } as EntryBody;
  if (mtime === undefined) e.mtime_precision_ns = 1_000_000_000;
  if (meta.mode !== undefined && /^[0-7]{4}$/.test(meta.mode)) e.mode = meta.mode;
  if (meta.uid !== undefined && /^\d{1,10}$/.test(meta.uid)) e.uid = Number(meta.uid);
  if (meta.gid !== undefined && /^\d{1,10}$/.test(meta.gid)) e.gid = Number(meta.gid);
  if (type === 'file') {
    e.size = info.size;
    const sha = metaSha256(info);
    if (sha !== undefined && (alg === null || alg === 'sha256')) e.hash = `sha256:${sha}`;
    else if (info.etagNotMd5 !== true && MD5_ETAG.test(info.etag) && (alg === 'md5' || (alg === null && sha === undefined))) e.hash = `md5:${info.etag}`;
  } else if (type === 'symlink') {
    try {
      e.target = decodeURIComponent(meta['cairn-target'] ?? '');
    } catch {
      e.target = meta['cairn-target'] ?? '';
    }
  }
  return e;
}

/** The type an object stands for: cairn's symlinks are marked; everything else is a file. */
export function typeOfObject(meta: ObjectMeta | undefined): EntryType {
  return meta?.['cairn-type'] === 'symlink' ? 'symlink' : 'file';
}
