import * as fs from 'node:fs';
import { UsageError } from '../../cli/errors';
import { POSIX_CAPS } from '../../records/entries';
import type { Caps } from '../../records/types';

type Traits = Omit<Caps, 'fs'>;

const FAT: Traits = {
  mtime_precision_ns: 2_000_000_000,
  perms: false,
  owners: false,
  symlinks: false,
  hardlinks: false,
  case_sensitive: false,
  unicode_normalizes: false,
};

/**
 * What each filesystem type keeps. Where a type's precision depends on how it
 * was made (ext3 with small inodes keeps whole seconds), the coarser value is
 * used: comparing too coarsely costs a rare missed change that --checksum
 * catches; too finely, a full recopy every run.
 */
const BY_FS: Record<string, Partial<Traits>> = {
  vfat: FAT,
  msdos: FAT,
  'fuse.fusefat': FAT,
  exfat: { ...FAT, mtime_precision_ns: 10_000_000 },
  'fuse.exfat': { ...FAT, mtime_precision_ns: 10_000_000 },
  ntfs: { mtime_precision_ns: 100, perms: false, owners: false },
  ntfs3: { mtime_precision_ns: 100, perms: false, owners: false },
  // Block-device FUSE drivers (ntfs-3g, exfat-fuse) all show as fuseblk: assume the least of them.
  fuseblk: { ...FAT, mtime_precision_ns: 10_000_000 },
  cifs: { mtime_precision_ns: 100 },
  smb3: { mtime_precision_ns: 100 },
  ext2: { mtime_precision_ns: 1_000_000_000 },
  ext3: { mtime_precision_ns: 1_000_000_000 },
  hfsplus: { mtime_precision_ns: 1_000_000_000, case_sensitive: false, unicode_normalizes: true },
  iso9660: { mtime_precision_ns: 1_000_000_000, hardlinks: false },
  udf: { mtime_precision_ns: 1_000, hardlinks: false },
};

export function capsForFsType(fsType: string): Caps {
  return { ...POSIX_CAPS, ...(BY_FS[fsType] ?? {}), fs: fsType };
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** The type of the filesystem holding `dir`, from /proc/self/mountinfo (Linux), or 'unknown'. */
export function fsTypeOf(dir: string): string {
  let real: string;
  let info: string;
  try {
    real = fs.realpathSync(dir);
    info = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return 'unknown';
  }
  let best = '';
  let type = 'unknown';
  for (const line of info.split('\n')) {
    const fields = line.split(' ');
    const sep = fields.indexOf('-');
    if (fields.length < 5 || sep < 0) continue;
    const mountPoint = unescapeMount(fields[4]!);
    const inside = real === mountPoint || mountPoint === '/' || real.startsWith(`${mountPoint}/`);
    // Later lines are mounted over earlier ones at the same point.
    if (inside && mountPoint.length >= best.length) {
      best = mountPoint;
      type = fields[sep + 1] ?? 'unknown';
    }
  }
  return type;
}

const DURATION_RE = /^(\d+)(ns|us|ms|s)?$/;
const UNIT_NS: Record<string, number> = { ns: 1, us: 1_000, ms: 1_000_000, s: 1_000_000_000 };

/**
 * Apply `--caps key=value,...` overrides: mtime_precision_ns takes a count of
 * nanoseconds or a duration (2s, 10ms); the others true or false.
 */
export function overrideCaps(caps: Caps, spec: string, flag = '--caps'): Caps {
  const out = { ...caps };
  for (const item of spec.split(',')) {
    const [key, value, extra] = item.split('=') as [string, string | undefined, string | undefined];
    if (value === undefined || extra !== undefined) throw new UsageError(flag, `${JSON.stringify(item)} is not key=value`);
    if (key === 'mtime_precision_ns') {
      const m = DURATION_RE.exec(value);
      if (!m || Number(m[1]) < 1) throw new UsageError(flag, `mtime_precision_ns: ${JSON.stringify(value)} is not a positive duration`);
      out.mtime_precision_ns = Number(m[1]) * UNIT_NS[m[2] ?? 'ns']!;
      if (!Number.isSafeInteger(out.mtime_precision_ns)) throw new UsageError(flag, `mtime_precision_ns: ${JSON.stringify(value)} is too large`);
    } else if (key === 'fs') {
      out.fs = value;
    } else if (Object.hasOwn(POSIX_CAPS, key)) {
      if (value !== 'true' && value !== 'false') throw new UsageError(flag, `${key}: must be true or false`);
      (out as Record<string, unknown>)[key] = value === 'true';
    } else {
      throw new UsageError(flag, `unknown capability ${JSON.stringify(key)} (known: ${Object.keys(POSIX_CAPS).join(', ')})`);
    }
  }
  return out;
}
