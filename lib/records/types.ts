/** The stream contract of DESIGN.md and cairn-records(5), as types. */

export const STREAM_VERSION = 1;

export type EntryType = 'file' | 'dir' | 'symlink' | 'fifo' | 'socket' | 'block' | 'char';
export const ENTRY_TYPES: readonly EntryType[] = ['file', 'dir', 'symlink', 'fifo', 'socket', 'block', 'char'];

export type HashAlg = 'sha256' | 'blake3' | 'sha1' | 'md5';
export const HASH_ALGS: readonly HashAlg[] = ['sha256', 'blake3', 'sha1', 'md5'];

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
  /** This object's mtime is exact only to this many ns, coarser than its tree's caps (an object-storage object whose time is its upload's second); 0: it has no time of its own (an implicit directory in object storage), and compares equal to any. */
  mtime_precision_ns?: number;
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
  /** Fifos, sockets and devices can be made (absent: true); object storage cannot. */
  specials?: boolean;
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
  /** The root directory itself (its path is not an entry): what a mirror gives the destination root. */
  root_entry?: EntryBody;
  tool: string;
  created: string;
}

/** An entry without its path, as carried inside change and plan records. */
export type EntryBody = Omit<Entry, 'path' | 'path_b64'> & {
  /** Hard links: the first path (in canonical order) of this file's link group, when it is not this path. */
  link?: string;
};

/** Attributes cairn-diff compares, in the order it lists them. */
export type Attr = 'type' | 'size' | 'mtime' | 'mode' | 'owner' | 'target' | 'rdev' | 'hash' | 'link' | 'error';
export const ATTRS: readonly Attr[] = ['type', 'size', 'mtime', 'mode', 'owner', 'target', 'rdev', 'hash', 'link', 'error'];

export type ChangeKind = 'a-only' | 'b-only' | 'differ' | 'same' | 'base-only';
export const CHANGE_KINDS: readonly ChangeKind[] = ['a-only', 'b-only', 'differ', 'same', 'base-only'];

/**
 * What happened to a path on one side since the base (three-way diff):
 * `touched` changed only attributes (mode, owner, or a time over the same content).
 */
export type SideChange = 'unchanged' | 'new' | 'modified' | 'touched' | 'deleted';
export const SIDE_CHANGES: readonly SideChange[] = ['unchanged', 'new', 'modified', 'touched', 'deleted'];

/** One path as cairn-diff saw it on both sides. */
export interface Change {
  path: string;
  path_b64?: string;
  change: ChangeKind;
  /** `differ` only: what differs, in ATTRS order. */
  attrs?: Attr[];
  a?: EntryBody;
  b?: EntryBody;
  /** Three-way diff only: the base entry, and what each side did since (absent: not on that side nor in the base). */
  base?: EntryBody;
  a_change?: SideChange;
  b_change?: SideChange;
  /** Three-way diff only: why the two sides' changes cannot both be kept. */
  conflict?: string;
  /** Three-way diff only: a change of case or normalization; `side` still has the object under the name `from`. */
  renamed?: { side: Side; from: string; from_b64?: string };
}

/** How cairn-diff compared: derived from both sides' caps and the flags. */
export interface CompareSettings {
  /** Two mtimes are equal when they fall in the same slot of this many nanoseconds, or closer than it. */
  mtime_window_ns: number;
  perms: boolean;
  owners: boolean;
  symlinks: boolean;
  hardlinks: boolean;
  ignore_hour_shift: boolean;
  size_only: boolean;
  checksum: 'off' | 'ambiguous' | 'all';
  ignore: Attr[];
}

export interface ChangesHeader {
  cairn: 'changes';
  version: number;
  a: EntriesHeader;
  b: EntriesHeader;
  base: EntriesHeader | null;
  compare: CompareSettings;
  /** `same` records for every path (--all); otherwise only for directories holding differences. */
  all: boolean;
  tool: string;
  created: string;
}

/**
 * Name prefix of cairn-apply's temporary objects. A leftover of an
 * interrupted run is recognised by it, and removed by the next plan.
 */
export const TEMP_PREFIX = '.cairn-tmp.';

/**
 * Name prefix of an object in the middle of a change of case on a
 * case-insensitive side: the user's object itself, never removed as a
 * leftover; a plan that meets one reports it.
 */
export const RENAME_PREFIX = '.cairn-rename.';

/** Where --versions keeps replaced and removed objects; no plan touches it, with --versions or without. */
export const VERSIONS_DIR = '.cairn-versions';

export type PlanOp = 'mkdir' | 'copy' | 'update' | 'symlink' | 'special' | 'meta' | 'move' | 'remove' | 'rmdir' | 'agree' | 'conflict' | 'store' | 'tombstone';
export const PLAN_OPS: readonly PlanOp[] = ['mkdir', 'copy', 'update', 'symlink', 'special', 'meta', 'move', 'remove', 'rmdir', 'agree', 'conflict', 'store', 'tombstone'];

/** A byte range of a file too large for one medium, stored on one volume. */
export interface Part {
  offset: number;
  size: number;
  /** `alg:hex` of the range; in descriptors (the plan does not know it yet). */
  hash?: string;
}

export type Side = 'a' | 'b';

/** What `meta` sets; only the fields present. */
export interface MetaSet {
  mode?: string;
  uid?: number;
  gid?: number;
  mtime?: string;
}

/** One action of a plan; `path` is relative to the destination root ("." is the root itself, meta only). */
export interface Action {
  op: PlanOp;
  path: string;
  path_b64?: string;
  /** The source object (copy, update, symlink, special, mkdir, move). */
  src?: EntryBody;
  /** The destination object as scanned; absent for an object this plan creates or that must not exist yet. */
  expect?: EntryBody;
  /** meta: the attributes to set. */
  set?: MetaSet;
  /** copy/update: make a hard link to this destination path instead of copying. */
  link?: string;
  /** move: the destination path the object is moved from. */
  from?: string;
  from_b64?: string;
  /** move (bisync, a conflict's loser): if `path` is taken on either side, use the first free NAME-2.EXT, NAME-3.EXT..., and so do later actions on it. */
  free_name?: boolean;
  /** Keep the replaced or removed object as a numbered version instead of destroying it. */
  keep?: boolean;
  /** Why this action is there, for people reading the plan (informational); conflict: why it is one. */
  why?: string;
  /** Bisync: the side this action changes (its source is the other side). */
  to?: Side;
  /** Bisync: what the state records for `path` once this action is done; null: the path leaves the state. */
  state?: EntryBody | null;
  /** conflict: both sides' objects and the base, as the diff saw them. */
  a?: EntryBody;
  b?: EntryBody;
  base?: EntryBody;
  /** store, tombstone: the volume the record goes to. */
  volume?: number;
  /** store: only this byte range of the file. */
  part?: Part;
}

/** What a volume is written as: the format decides the overhead the budget counts. */
export type MediumFormat = 'iso' | 'tar' | 'dir';
export const MEDIUM_FORMATS: readonly MediumFormat[] = ['iso', 'tar', 'dir'];

/** One volume of an archive plan, as its header lists it. */
export interface PlannedVolume {
  volume: number;
  label: string;
  /** Upper bound of the bytes the medium needs. */
  bytes: number;
  files: number;
}

/** The archive fields of a plan header (mode archive). */
export interface ArchivePlan {
  catalog: string;
  medium_size: number;
  format: MediumFormat;
  volumes: PlannedVolume[];
  /** Volumes counted as not archived; the next descriptor written records them. */
  discards: number[];
  /** Descriptors are written gzip-compressed. */
  compress: boolean;
}

export interface PlanHeader {
  cairn: 'plan';
  version: number;
  mode: 'mirror' | 'copy' | 'bisync' | 'archive';
  /** The source root (bisync: side a). */
  src: string;
  /** The destination root (bisync: side b; archive: the catalog directory). */
  dst: string;
  src_caps: Caps;
  dst_caps: Caps;
  hash: HashAlg | null;
  /** Directory under dst that holds numbered versions (--versions), or null. */
  versions: string | null;
  /** mode archive only. */
  archive?: ArchivePlan;
  tool: string;
  created: string;
}

/**
 * A record of a volume descriptor: an object stored on the medium (a file
 * entry always with its hash; `part` when only a range of it is there; `link`
 * when it is a hard link to a path stored earlier on the same medium), or a
 * tombstone for a path gone from the source since the previous volume.
 */
export type VolumeRecord = (Entry & { link?: string; part?: Part; tombstone?: undefined }) | Tombstone;

export interface Tombstone {
  path: string;
  path_b64?: string;
  tombstone: true;
}

export interface VolumeHeader {
  cairn: 'volume';
  version: number;
  volume: number;
  created: string;
  medium_size: number;
  format: MediumFormat;
  label: string;
  /** The source root the entries are relative to. */
  root: string;
  hash: HashAlg;
  caps: Caps;
  /** Earlier volumes this one declares discarded (their records no longer count). */
  discards: number[];
  tool: string;
}

export type ResultStatus = 'done' | 'skipped' | 'stale' | 'failed' | 'dry-run' | 'conflict';
export const RESULT_STATUSES: readonly ResultStatus[] = ['done', 'skipped', 'stale', 'failed', 'dry-run', 'conflict'];

/** An action as cairn-apply carried it out. */
export interface Result extends Action {
  status: ResultStatus;
  error?: string;
  /** Where a replaced or removed object was kept (--versions). */
  kept?: string;
}

export interface ResultsHeader {
  cairn: 'results';
  version: number;
  src: string;
  dst: string;
  dry_run: boolean;
  plan: PlanHeader;
  tool: string;
  created: string;
}

/** Last line of every stream: proof that the writer finished. */
export interface EndRecord {
  cairn: 'end';
  /** Counts a writer may add (changes: entries read on each side; plan: totals), for readers that need them. */
  counts?: Record<string, number>;
}

export type StreamKind = 'entries' | 'changes' | 'plan' | 'results' | 'volume';
