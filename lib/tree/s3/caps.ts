import type { Caps } from '../../records/types';

/**
 * What object storage keeps, with cairn's metadata: times to the
 * nanosecond (rclone's decimal seconds), modes and owners, symlinks as
 * marked objects; no hard links, no fifos or devices; keys are exact bytes.
 * An object without cairn's metadata says so in its own entry.
 */
export const S3_CAPS: Caps = {
  mtime_precision_ns: 1,
  perms: true,
  owners: true,
  symlinks: true,
  hardlinks: false,
  case_sensitive: true,
  unicode_normalizes: false,
  specials: false,
  fs: 's3',
};
