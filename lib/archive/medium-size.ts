import { UsageError } from '../cli/errors';

/**
 * Capacities of real write-once media, in bytes: the sector counts of the
 * common discs times 2048, so a preset means what a burner will take
 * (a "700 MB" CD-R holds 360000 sectors, a "4.7 GB" DVD±R 2295104).
 */
export const PRESETS: Record<string, number> = {
  cd: 360_000 * 2048,
  dvd: 2_295_104 * 2048,
  'dvd-dl': 4_171_712 * 2048,
  bd: 12_219_392 * 2048,
  'bd-dl': 24_438_784 * 2048,
};

const UNITS: Record<string, number> = {
  '': 1,
  k: 1e3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};

/** SIZE: bytes, a number with k/M/G/T (powers of 1000) or Ki/Mi/Gi/Ti (powers of 1024), an optional B, or a preset. */
export function parseMediumSize(flag: string, v: string): number {
  const preset = PRESETS[v.toLowerCase()];
  if (preset !== undefined) return preset;
  const m = /^(\d+(?:\.\d+)?)\s*(|k|K|M|G|T|Ki|Mi|Gi|Ti)B?$/.exec(v);
  const bytes = m ? Math.floor(Number(m[1]) * UNITS[m[2]!]!) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    throw new UsageError(`${flag} ${v}`, `not a size (bytes, 4.7G, 700Mi, or one of ${Object.keys(PRESETS).join(', ')})`);
  }
  return bytes;
}
