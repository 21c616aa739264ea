import { InputError } from '../cli/errors';
import { checkHash, HEX_LENGTH, validateEntriesHeader, validateEntry, pathProblem } from '../records/entries';
import type { Loc, StreamSpec } from '../records/stream-reader';
import { MEDIUM_FORMATS, type MediumFormat, type VolumeHeader, type VolumeRecord } from '../records/types';

function fail(at: Loc, field: string | undefined, why: string): never {
  throw new InputError(at.file, at.line, field, why);
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** A volume descriptor: what one medium holds (cairn-records(5), VOLUME DESCRIPTORS). */
export const VOLUME: StreamSpec<VolumeHeader, VolumeRecord> = {
  kind: 'volume',
  header(o, at) {
    if (!isCount(o.volume) || o.volume < 1) fail(at, 'volume', 'must be a volume number from 1');
    if (!isCount(o.medium_size) || o.medium_size < 1) fail(at, 'medium_size', 'must be a positive byte count');
    if (!MEDIUM_FORMATS.includes(o.format as MediumFormat)) fail(at, 'format', `must be one of ${MEDIUM_FORMATS.join(', ')}`);
    if (typeof o.label !== 'string') fail(at, 'label', 'missing or not a string');
    const discards = o.discards ?? [];
    if (!Array.isArray(discards) || !discards.every((n) => isCount(n) && n >= 1)) fail(at, 'discards', 'must be a list of volume numbers');
    // The entries header fields (root, hash, caps) are checked as the entries header checks them.
    const e = validateEntriesHeader(o, at);
    if (e.hash === null) fail(at, 'hash', 'a volume names its hash algorithm');
    return {
      ...(o as object),
      cairn: 'volume',
      version: o.version as number,
      volume: o.volume,
      created: typeof o.created === 'string' ? o.created : '',
      medium_size: o.medium_size,
      format: o.format as MediumFormat,
      label: o.label,
      root: e.root,
      hash: e.hash,
      caps: e.caps,
      discards: discards as number[],
      tool: e.tool,
    };
  },
  record(o, at, h) {
    if (o.tombstone !== undefined) {
      if (o.tombstone !== true) fail(at, 'tombstone', 'must be true');
      if (typeof o.path !== 'string' || pathProblem(o.path)) fail(at, 'path', 'missing or not a relative path');
      if (o.type !== undefined) fail(at, 'type', 'not allowed on a tombstone');
      return o as unknown as VolumeRecord;
    }
    const e = validateEntry(o, at);
    if (e.type === 'file' && e.hash === undefined && e.error === undefined) fail(at, 'hash', 'stored files carry their hash');
    if (e.hash !== undefined && !e.hash.startsWith(`${h.hash}:`)) fail(at, 'hash', `not ${h.hash}, the header's algorithm`);
    const link = o.link;
    if (link !== undefined && (typeof link !== 'string' || pathProblem(link))) fail(at, 'link', 'must be a relative path');
    const part = o.part as Record<string, unknown> | undefined;
    if (part !== undefined) {
      if (e.type !== 'file') fail(at, 'part', 'only files have parts');
      if (typeof part !== 'object' || part === null || !isCount(part.offset) || !isCount(part.size) || part.size === 0) {
        fail(at, 'part', 'must be {offset, size, hash} with a positive size');
      }
      if (part.offset + part.size > e.size!) fail(at, 'part', `range ${part.offset}+${part.size} goes past the file's size ${e.size}`);
      checkHash(part.hash, at, 'part.');
    }
    return o as unknown as VolumeRecord;
  },
  ordered: true,
};

const TYPES = new Set(['file', 'dir', 'symlink', 'fifo', 'socket', 'block', 'char']);

/**
 * The descriptor records as the archive planner merges them: a catalog is
 * cairn's own output, read whole on every run (a million records), so only
 * what the decision relies on is checked: the path, the type, a file's size,
 * time and hash as strings of the right kind, and parts in full. Anything
 * odd elsewhere can only make an object look changed, and be stored again.
 */
export const VOLUME_MERGE: StreamSpec<VolumeHeader, VolumeRecord> = {
  ...VOLUME,
  record(o, at, h) {
    const plain =
      o.tombstone === undefined &&
      o.part === undefined &&
      typeof o.path === 'string' &&
      pathProblem(o.path) === undefined &&
      typeof o.type === 'string' &&
      TYPES.has(o.type) &&
      (o.type !== 'file' ||
        o.error !== undefined ||
        (isCount(o.size) && typeof o.mtime === 'string' && o.mtime.length === 30 && typeof o.hash === 'string' && o.hash.length === h.hash.length + 1 + HEX_LENGTH[h.hash] && o.hash.startsWith(`${h.hash}:`)));
    // Anything else, checked in full: parts, tombstones, and what is wrong (for the message).
    return plain ? (o as unknown as VolumeRecord) : VOLUME.record(o, at, h);
  },
};
