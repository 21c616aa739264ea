import { UsageError } from '../../cli/errors';

/** A place in object storage: `s3://bucket/prefix`. */
export interface S3Location {
  bucket: string;
  /** Key prefix of the tree's root, without a trailing `/`; empty for the whole bucket. */
  prefix: string;
}

export function isS3(spec: string): boolean {
  return spec.startsWith('s3://');
}

/**
 * Parses `s3://bucket[/prefix][/]`. The prefix names a tree, so it has the
 * shape of a relative path: no empty, `.` or `..` components.
 */
export function parseS3(spec: string): S3Location {
  const rest = spec.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const prefix = slash < 0 ? '' : rest.slice(slash + 1).replace(/\/+$/, '');
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new UsageError(spec, 'not a bucket name (3 to 63 of a-z, 0-9, ".", "-")');
  if (prefix !== '' && prefix.split('/').some((c) => c === '' || c === '.' || c === '..')) throw new UsageError(spec, 'the prefix has an empty, "." or ".." component');
  return { bucket, prefix };
}

/** The location written back as a root: `s3://bucket/prefix`, no trailing slash. */
export function s3Root(loc: S3Location): string {
  return `s3://${loc.bucket}${loc.prefix !== '' ? `/${loc.prefix}` : ''}`;
}

/** The key of a relative path (`.` is the root itself). */
export function keyOf(loc: S3Location, rel: string): string {
  if (rel === '.' || rel === '') return loc.prefix;
  return loc.prefix !== '' ? `${loc.prefix}/${rel}` : rel;
}

/** The key under which a directory is marked (`dir/`, as the S3 consoles do); the root's is `prefix/`. */
export function markerOf(loc: S3Location, rel: string): string {
  const k = keyOf(loc, rel);
  return k === '' ? '' : `${k}/`;
}

/**
 * Why a relative path cannot be a key: S3 keys are UTF-8 of at most 1024
 * bytes, and a name that is not valid UTF-8 has no key.
 */
export function keyProblem(loc: S3Location, rel: string, b64: string | undefined): string | undefined {
  if (b64 !== undefined) return 'the name is not valid UTF-8, and object storage keys are UTF-8';
  if (Buffer.byteLength(keyOf(loc, rel)) + 1 > 1024) return 'the key would be over 1024 bytes, the most object storage takes';
  return undefined;
}
