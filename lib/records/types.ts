/** The stream contract of DESIGN.md and cairn-records(5), as types. */

export const STREAM_VERSION = 1;

export type EntryType = 'file' | 'dir' | 'symlink' | 'fifo' | 'socket' | 'block' | 'char';
export const ENTRY_TYPES: readonly EntryType[] = ['file', 'dir', 'symlink', 'fifo', 'socket', 'block', 'char'];

export type HashAlg = 'sha256' | 'sha1' | 'md5';
export const HASH_ALGS: readonly HashAlg[] = ['sha256', 'sha1', 'md5'];

/** One filesystem object, relative to the root of its stream. */
export interface Entry {
  /** `/`-separated, relative, no `.`/`..`/empty components; readable form when path_b64 is set. */
  path: string;
  /** Raw bytes of the path, base64, present only when they are not valid UTF-8. */
  path_b64?: string;
  type: EntryType;
  /** Regular files only. */
  size?: number;
  /** RFC 3339 UTC, exactly 9 fractional digits. Absent only on an object that could not be examined. */
  mtime: string;
  /** Permission bits (including setuid/setgid/sticky) as 4 octal digits. */
  mode: string;
  uid: number;
  gid: number;
  user?: string;
  group?: string;
  /** Symlinks: the link text, readable form. */
  target?: string;
  /** Symlinks: raw link bytes, base64, when not valid UTF-8. */
  target_b64?: string;
  /** Block and char devices: the device number. */
  rdev?: number;
  /** Regular files: inode number (a decimal string when beyond 2^53). */
  ino?: number | string;
  /** Present when the file has more than one link. */
  nlink?: number;
  dev?: number;
  /** `alg:hex`. */
  hash?: string;
  /** Status-change time, same format as mtime; present on hashed files so --reuse can trust the hash. */
  ctime?: string;
  /** The object (or its subtree, or its content) could not be read: `CODE: reason`. An
   * object that could not be examined at all has only path, type and error. */
  error?: string;
  /** A directory deliberately not entered (a mount point under --one-file-system): why. */
  unscanned?: string;
}

/** What a tree can store; diff compares only what both sides keep. */
export interface Caps {
  mtime_precision_ns: number;
  perms: boolean;
  owners: boolean;
  symlinks: boolean;
  hardlinks: boolean;
  case_sensitive: boolean;
  unicode_normalizes: boolean;
  /** Filesystem type the capabilities were derived from (informational). */
  fs: string;
}

/** A filter rule as carried in the entries header, in the order given. */
export type FilterRule =
  | { exclude: string }
  | { include: string }
  | { exclude_regex: string }
  | { include_regex: string };

export interface EntriesHeader {
  cairn: 'entries';
  version: number;
  root: string;
  hash: HashAlg | null;
  caps: Caps;
  filters: FilterRule[];
  options: { follow: boolean; one_file_system: boolean };
  tool: string;
  created: string;
}

/** Last line of every stream: proof that the writer finished. */
export interface EndRecord {
  cairn: 'end';
}

export type StreamKind = 'entries' | 'changes' | 'plan' | 'results' | 'volume';
