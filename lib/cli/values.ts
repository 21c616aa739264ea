import { UsageError } from './errors';
import { requireAlg } from '../hash/digest';
import { parseTimeNs } from '../records/time';
import { HASH_ALGS, type HashAlg } from '../records/types';

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9, d: 86400e9 };

/** A duration: `2s`, `500ms`, `1h`, `10us`; a bare number is seconds (as rsync's --modify-window). */
export function parseDurationNs(flag: string, v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ns|us|ms|s|m|h|d)?$/.exec(v);
  if (!m) throw new UsageError(`${flag} ${v}`, 'not a duration (like 2s, 500ms, 1h; a bare number is seconds)');
  return Math.round(Number(m[1]) * UNIT_NS[m[2] ?? 's']!);
}

/** A point in time: RFC 3339 (`2024-03-01T10:00:00Z`, any fraction or offset) or a date (`2024-03-01`, UTC). */
export function parseTimeFlag(flag: string, v: string): string {
  const ms = /^\d{4}-\d\d-\d\d$/.test(v) ? Date.parse(`${v}T00:00:00Z`) : /^\d{4}-\d\d-\d\dT/.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(ms)) throw new UsageError(`${flag} ${v}`, 'not a time (use 2024-03-01 or 2024-03-01T10:00:00Z)');
  const frac = /\.(\d+)/.exec(v)?.[1] ?? '';
  const t = new Date(ms).toISOString().slice(0, 19) + `.${(frac + '000000000').slice(0, 9)}Z`;
  if (parseTimeNs(t) === undefined) throw new UsageError(`${flag} ${v}`, 'not a time');
  return t;
}

/** A whole number within bounds. */
export function parseCount(flag: string, v: string, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\d+$/.test(v) || Number(v) > max) throw new UsageError(`${flag} ${v}`, `must be a whole number from 0 to ${max}`);
  return Number(v);
}

/** A content hash algorithm this machine can compute (`--hash ALG`). */
export function parseHashAlg(flag: string, v: string): HashAlg {
  if (!HASH_ALGS.includes(v as HashAlg)) throw new UsageError(`${flag} ${v}`, `unknown algorithm (use ${HASH_ALGS.join(', ')})`);
  requireAlg(v as HashAlg, flag);
  return v as HashAlg;
}
