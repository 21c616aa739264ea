import { FIXED, SECTOR, costDir, costFile, costSymlink } from '../graft/iso-budget';
import { memberOf } from '../pack/member';
import { END_OF_ARCHIVE, encodeHeader } from '../pack/tar-header';
import type { EntryBody, MediumFormat } from '../records/types';

/**
 * What a volume of one format costs on its medium, as an upper bound: the
 * planner adds these up, so a volume planned for SIZE is written in SIZE.
 */
export interface FormatBudget {
  /** Bytes of an image or tar with nothing in it. */
  fixed: number;
  /** Cost of one object besides its content: headers, directory records. */
  head(name: Buffer, nameLen: number, e: EntryBody, size: number): number;
  /** Cost of `size` content bytes. */
  body(size: number): number;
  /** What a part costs more than the whole file: its longer member name. */
  partHead: number;
  /** Parts are cut at multiples of this. */
  unit: number;
}

const DESCRIPTOR_NAME = Buffer.from('.cairn/vol-0000000.ndjson.gz');

function tarBudget(): FormatBudget {
  return {
    // The `.cairn` directory member, and the two zero blocks that end a tar.
    fixed: END_OF_ARCHIVE.length + encodeHeader({ path: Buffer.from('.cairn'), type: 'dir', size: 0, mtimeNs: 1n, mode: 0o755, uid: 0, gid: 0 }).length,
    // A file with more links may be stored as a hard link member, which names its target:
    // a long one needs a pax header (a header block and a record block) of its own.
    head: (name, _len, e, size) => encodeHeader(memberOf(name, e, size)).length + ((e.nlink ?? 1) > 1 ? 1024 : 0),
    // 512-byte blocks, and room for gzip (cairn-pack -z): deflate's stored
    // blocks add at most 5 bytes per 16 KiB to what does not compress.
    body: (size) => Math.ceil(size / 512) * 512 + Math.ceil(size / 2048),
    // A longer name may need a pax header: one header block and one record block.
    partHead: 1024,
    unit: 512,
  };
}

/**
 * ISO 9660 with Rock Ridge and Joliet, as genisoimage and xorriso build it
 * (cairn-graft(1) gives the options): bounds measured on both tools.
 * Devices and fifos are not grafted (the descriptor restores them).
 */
function isoBudget(): FormatBudget {
  const data = (size: number): number => Math.ceil(size / SECTOR) * SECTOR;
  return {
    fixed: FIXED + costDir(6),
    head: (_name, len, e, size) =>
      e.type === 'dir' ? costDir(len) : e.type === 'symlink' ? costSymlink(len, Buffer.byteLength(e.target ?? '')) : e.type === 'file' ? costFile(len, size) - data(size) : 0,
    body: data,
    partHead: costFile(255, 0) - costFile(1, 0),
    unit: SECTOR,
  };
}

/** A plain directory (cairn-apply --dst): allocation blocks of 4 KiB, a block per directory and per inode's name. */
function dirBudget(): FormatBudget {
  return {
    fixed: 4096,
    head: (_name, len, e) => (e.type === 'dir' ? 4096 : 256 + len),
    body: (size) => Math.ceil(size / 4096) * 4096,
    partHead: 64,
    unit: 4096,
  };
}

export function formatBudget(format: MediumFormat): FormatBudget {
  return format === 'tar' ? tarBudget() : format === 'iso' ? isoBudget() : dirBudget();
}

/** Cost of a `.cairn/` descriptor file of `bytes` bytes on the medium. */
export function descriptorCost(b: FormatBudget, bytes: number): number {
  const stub: EntryBody = { type: 'file', size: bytes, mtime: '2000-01-01T00:00:00.123456789Z', mode: '0644', uid: 0, gid: 0 };
  return b.head(DESCRIPTOR_NAME, DESCRIPTOR_NAME.length - 7, stub, bytes) + b.body(bytes);
}
