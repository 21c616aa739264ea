import * as fs from 'node:fs';
import * as path from 'node:path';
import { UsageError, describeSystemError } from '../cli/errors';

/** Descriptor files: vol-0001.ndjson, or vol-0001.ndjson.gz when compressed. */
const NAME_RE = /^vol-(\d{4,})\.ndjson(\.gz)?$/;

export function descriptorName(volume: number, compress: boolean): string {
  return `vol-${String(volume).padStart(4, '0')}.ndjson${compress ? '.gz' : ''}`;
}

/** The default label of a volume: what genisoimage -V gets in the burn recipe. */
export function volumeLabel(volume: number): string {
  return `CAIRN_${String(volume).padStart(4, '0')}`;
}

export interface CatalogFile {
  volume: number;
  file: string;
  gzip: boolean;
}

/**
 * The descriptors of a catalog directory, by volume number. Other files are
 * ignored (a README, the temporary file of a write in progress); two files
 * for one volume are an error.
 */
export function listCatalog(dir: string): CatalogFile[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (err) {
    throw new UsageError(`--catalog ${dir}`, describeSystemError(err));
  }
  const byVolume = new Map<number, CatalogFile>();
  for (const name of names) {
    const m = NAME_RE.exec(name);
    if (!m) continue;
    const volume = Number(m[1]);
    const other = byVolume.get(volume);
    if (other) throw new UsageError(`--catalog ${dir}`, `two descriptors for volume ${volume}: ${path.basename(other.file)} and ${name}`);
    byVolume.set(volume, { volume, file: path.join(dir, name), gzip: m[2] !== undefined });
  }
  return [...byVolume.values()].sort((a, b) => a.volume - b.volume);
}
