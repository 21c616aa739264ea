import { InputError } from '../cli/errors';
import { isValidUtf8 } from './raw-names';
import type { Loc, StreamSpec } from './stream-reader';
import { isTime } from './time';
import {
  ENTRY_TYPES,
  HASH_ALGS,
  type Caps,
  type EntriesHeader,
  type Entry,
  type EntryBody,
  type FilterRule,
  type HashAlg,
} from './types';

/** Capabilities assumed for a header that does not state them: a POSIX filesystem. */
export const POSIX_CAPS: Caps = {
  mtime_precision_ns: 1,
  perms: true,
  owners: true,
  symlinks: true,
  hardlinks: true,
  case_sensitive: true,
  unicode_normalizes: false,
  fs: 'unknown',
};

/** Hex digits of a digest, by algorithm. */
export const HEX_LENGTH: Record<HashAlg, number> = { sha256: 64, blake3: 64, sha1: 40, md5: 32 };
const TYPES = new Set<string>(ENTRY_TYPES);
const MODE_RE = /^[0-7]{4}$/;
const BAD_COMPONENT_RE = /(?:^|\/)\.{1,2}(?:\/|$)/;

function fail(at: Loc, field: string | undefined, why: string): never {
  throw new InputError(at.file, at.line, field, why);
}

/** A relative path as the contract allows it: no leading `/`, no empty, `.` or `..` components, no NUL. */
export function pathProblem(p: string): string | undefined {
  if (p === '') return 'empty';
  if (p.charCodeAt(0) === 0x2f) return 'absolute (leading /)';
  if (p.charCodeAt(p.length - 1) === 0x2f || p.includes('//')) return 'empty component';
  if ((p.charCodeAt(0) === 0x2e || p.includes('/.')) && BAD_COMPONENT_RE.test(p)) return '"." or ".." component';
  if (p.includes('\0')) return 'NUL byte';
  return undefined;
}

// One test for the common case (of HEX_LENGTH's algorithms); the details below only explain a failure.
const HASH_RE = new RegExp(`^(?:${Object.entries(HEX_LENGTH).map(([alg, n]) => `${alg}:[0-9a-f]{${n}}`).join('|')})$`);

/** `alg:hex` of a known algorithm, in lower-case hex of its length: what checkHash accepts. */
export function isHash(value: string): boolean {
  return HASH_RE.test(value);
}

export function checkHash(value: unknown, at: Loc, prefix = ''): string {
  if (typeof value === 'string' && isHash(value)) return value;
  if (typeof value !== 'string') fail(at, prefix + 'hash', 'must be a string "alg:hex"');
  const colon = value.indexOf(':');
  const alg = value.slice(0, colon) as HashAlg;
  const hex = value.slice(colon + 1);
  if (colon < 0 || HEX_LENGTH[alg] === undefined) fail(at, prefix + 'hash', `unknown algorithm in ${JSON.stringify(value)}`);
  if (hex.length !== HEX_LENGTH[alg] || !/^[0-9a-f]+$/.test(hex)) fail(at, prefix + 'hash', `not a ${alg} hex digest`);
  return value;
}

/** The bytes of a base64 field, which must be canonical: what re-encoding them gives (alphabet, length, padding). */
function checkB64(value: unknown, at: Loc, field: string): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'base64') : undefined;
  if (bytes === undefined || bytes.toString('base64') !== value) fail(at, field, 'not canonical base64 (length or padding)');
  return bytes;
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

/** Validates one entry record in place and returns it typed. */
export function validateEntry(o: Record<string, unknown>, at: Loc, prefix = ''): Entry {
  validatePath(o, at, prefix);
  return validateFields(o, at, prefix);
}

function validatePath(o: Record<string, unknown>, at: Loc, prefix: string): void {
  const p = o.path;
  if (typeof p !== 'string') fail(at, prefix + 'path', 'missing or not a string');
  const bad = pathProblem(p);
  if (bad) fail(at, prefix + 'path', bad);
  if (o.path_b64 !== undefined) {
    const raw = checkB64(o.path_b64, at, prefix + 'path_b64');
    const rawBad = raw.includes(0) ? 'NUL byte' : pathProblem(raw.toString('latin1'));
    if (rawBad) fail(at, prefix + 'path_b64', rawBad);
    if (isValidUtf8(raw) && raw.toString('utf8') !== p) fail(at, prefix + 'path_b64', 'valid UTF-8 that differs from path');
  }
}

/** Everything of an entry but its path: for entries and for bodies carried without one. */
function validateFields(o: Record<string, unknown>, at: Loc, prefix: string): Entry {
  const t = o.type;
  if (typeof t !== 'string' || !TYPES.has(t)) fail(at, prefix + 'type', `must be one of ${ENTRY_TYPES.join(', ')}`);
  if (o.error !== undefined && typeof o.error !== 'string') fail(at, prefix + 'error', 'must be a string');
  // An object that could not be examined at all carries only path, type and error.
  const examined = o.error === undefined || o.mtime !== undefined;
  if (examined && (typeof o.mtime !== 'string' || !isTime(o.mtime))) {
    fail(at, prefix + 'mtime', 'must be RFC 3339 UTC with 9 fractional digits (2024-03-01T10:11:12.123456789Z)');
  }
  if (t === 'file' && examined) {
    if (!isCount(o.size)) fail(at, prefix + 'size', 'files need a size: a non-negative integer');
  } else if (o.size !== undefined && !isCount(o.size)) {
    fail(at, prefix + 'size', 'must be a non-negative integer');
  }
  if (o.mode !== undefined && (typeof o.mode !== 'string' || !MODE_RE.test(o.mode))) fail(at, prefix + 'mode', 'must be 4 octal digits');
  if (o.uid !== undefined && !isCount(o.uid)) fail(at, prefix + 'uid', 'must be a non-negative integer');
  if (o.gid !== undefined && !isCount(o.gid)) fail(at, prefix + 'gid', 'must be a non-negative integer');
  if (o.user !== undefined && typeof o.user !== 'string') fail(at, prefix + 'user', 'must be a string');
  if (o.group !== undefined && typeof o.group !== 'string') fail(at, prefix + 'group', 'must be a string');
  if (t === 'symlink' && examined && typeof o.target !== 'string') fail(at, prefix + 'target', 'symlinks need a target string');
  if (o.target !== undefined && typeof o.target !== 'string') fail(at, prefix + 'target', 'must be a string');
  if (o.target_b64 !== undefined) checkB64(o.target_b64, at, prefix + 'target_b64');
  if ((t === 'block' || t === 'char') && examined && !isCount(o.rdev)) fail(at, prefix + 'rdev', 'devices need rdev: a non-negative integer');
  if (o.rdev !== undefined && !isCount(o.rdev)) fail(at, prefix + 'rdev', 'must be a non-negative integer');
  if (o.dev !== undefined && !isCount(o.dev)) fail(at, prefix + 'dev', 'must be a non-negative integer');
  if (o.unscanned !== undefined && typeof o.unscanned !== 'string') fail(at, prefix + 'unscanned', 'must be a string');
  if (o.hash !== undefined) checkHash(o.hash, at, prefix);
  if (o.ctime !== undefined && (typeof o.ctime !== 'string' || !isTime(o.ctime))) fail(at, prefix + 'ctime', 'must be RFC 3339 UTC with 9 fractional digits');
  if (o.mtime_precision_ns !== undefined && !isCount(o.mtime_precision_ns)) fail(at, prefix + 'mtime_precision_ns', 'must be a non-negative integer (0: the time is unknown)');
  if (o.nlink !== undefined && !isCount(o.nlink)) fail(at, prefix + 'nlink', 'must be a non-negative integer');
  if (o.ino !== undefined && !(isCount(o.ino) && Number.isSafeInteger(o.ino)) && !(typeof o.ino === 'string' && /^\d+$/.test(o.ino))) {
    fail(at, prefix + 'ino', 'must be a non-negative integer (a decimal string beyond 2^53)');
  }
  return o as unknown as Entry;
}

/**
 * Validates an entry carried without its path inside another record (a
 * change's `a`, an action's `src`), naming fields as `<prefix>field`.
 */
export function validateBody(v: unknown, at: Loc, prefix: string): EntryBody {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(at, prefix.slice(0, -1), 'must be an object');
  const o = v as Record<string, unknown>;
  if (o.path !== undefined || o.path_b64 !== undefined) fail(at, `${prefix}path`, 'not allowed here: the record carries the path');
  if (o.link !== undefined && (typeof o.link !== 'string' || pathProblem(o.link))) fail(at, `${prefix}link`, 'must be a relative path');
  validateFields(o, at, prefix);
  return o as unknown as EntryBody;
}

function checkCaps(v: unknown, at: Loc): Caps {
  if (v === undefined) return { ...POSIX_CAPS };
  if (typeof v !== 'object' || v === null) fail(at, 'caps', 'must be an object');
  const c = { ...POSIX_CAPS, ...(v as Partial<Caps>) };
  if (!Number.isInteger(c.mtime_precision_ns) || c.mtime_precision_ns < 1) fail(at, 'caps.mtime_precision_ns', 'must be a positive integer');
  if (typeof c.fs !== 'string') fail(at, 'caps.fs', 'must be a string');
  for (const k of ['perms', 'owners', 'symlinks', 'hardlinks', 'case_sensitive', 'unicode_normalizes'] as const) {
    if (typeof c[k] !== 'boolean') fail(at, `caps.${k}`, 'must be true or false');
  }
  return c;
}

const FILTER_KEYS = new Set(['exclude', 'include', 'exclude_regex', 'include_regex']);

function checkFilters(v: unknown, at: Loc): FilterRule[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) fail(at, 'filters', 'must be an array');
  for (const rule of v) {
    const keys = rule && typeof rule === 'object' ? Object.keys(rule) : [];
    if (keys.length !== 1 || !FILTER_KEYS.has(keys[0]!) || typeof (rule as Record<string, unknown>)[keys[0]!] !== 'string') {
      fail(at, 'filters', `bad rule ${JSON.stringify(rule)}`);
    }
  }
  return v as FilterRule[];
}

export function validateEntriesHeader(o: Record<string, unknown>, at: Loc): EntriesHeader {
  if (typeof o.root !== 'string' || !(o.root.startsWith('/') || o.root.startsWith('s3://'))) fail(at, 'root', 'missing or not an absolute path or s3:// location');
  const hash = o.hash ?? null;
  if (hash !== null && !HASH_ALGS.includes(hash as HashAlg)) fail(at, 'hash', `must be null or one of ${HASH_ALGS.join(', ')}`);
  const options = (o.options ?? {}) as { follow?: unknown; one_file_system?: unknown };
  if (o.root_entry !== undefined) {
    const re = o.root_entry;
    if (typeof re !== 'object' || re === null || Array.isArray(re)) fail(at, 'root_entry', 'must be an object');
    validateBody(re, at, 'root_entry.');
  }
  return {
    ...(o as object),
    cairn: 'entries',
    version: o.version as number,
    root: o.root,
    hash: hash as HashAlg | null,
    caps: checkCaps(o.caps, at),
    filters: checkFilters(o.filters, at),
    options: { follow: options.follow === true, one_file_system: options.one_file_system === true },
    tool: typeof o.tool === 'string' ? o.tool : '',
    created: typeof o.created === 'string' ? o.created : '',
  };
}

export const ENTRIES: StreamSpec<EntriesHeader, Entry> = {
  kind: 'entries',
  header: validateEntriesHeader,
  record(o, at, header) {
    const e = validateEntry(o, at);
    // One algorithm per stream: the header's (a hash of another kind could never match).
    if (e.hash !== undefined && (header.hash === null || !e.hash.startsWith(`${header.hash}:`))) {
      fail(at, 'hash', header.hash === null ? 'the header names no hash algorithm' : `not ${header.hash}, the header's algorithm`);
    }
    return e;
  },
  ordered: true,
};

