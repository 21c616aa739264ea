import * as fs from 'node:fs';
import * as path from 'node:path';
import { UsageError } from '../cli/errors';
import type { VolumeHeader } from '../records/types';
import { CatalogMerge } from './merge';
import { listCatalog, type CatalogFile } from './names';
import { openDescriptor, readVolumeHeader } from './open';
import { VOLUME_MERGE } from './volume-spec';

export interface Catalog {
  dir: string;
  files: CatalogFile[];
  headers: Map<number, VolumeHeader>;
  /** Volumes whose records no longer count: named by a later descriptor, or by --discard now. */
  discarded: Set<number>;
  /** Discards to record in the next descriptor: --discard volumes not recorded yet. */
  newDiscards: number[];
  /** The number the next volume gets. */
  next: number;
}

/**
 * Reads the headers of a catalog directory (one descriptor per produced
 * medium). A missing directory is an empty catalog only when the caller is
 * about to start one; the directory itself must exist.
 */
export async function loadCatalog(dir: string, discard: readonly number[] = []): Promise<Catalog> {
  const abs = path.resolve(dir);
  if (!fs.existsSync(abs)) throw new UsageError(`--catalog ${dir}`, 'no such directory (create it empty to start a catalog)');
  const files = listCatalog(abs);
  const headers = new Map<number, VolumeHeader>();
  const discarded = new Set<number>();
  for (const f of files) {
    const h = await readVolumeHeader(f);
    headers.set(f.volume, h);
    for (const n of h.discards) if (n < f.volume) discarded.add(n);
  }
  const newDiscards: number[] = [];
  for (const n of discard) {
    if (!headers.has(n)) throw new UsageError(`--discard ${n}`, `the catalog has no volume ${n}`);
    if (!discarded.has(n)) newDiscards.push(n);
    discarded.add(n);
  }
  const last = files.length > 0 ? files[files.length - 1]!.volume : 0;
  return { dir: abs, files, headers, discarded, newDiscards: [...new Set(newDiscards)].sort((a, b) => a - b), next: last + 1 };
}

/** The records of every volume that counts, merged into one stream of path groups. */
export async function mergeCatalog(c: Catalog): Promise<CatalogMerge> {
  const volumes = [];
  for (const f of c.files) {
    if (c.discarded.has(f.volume)) continue;
    volumes.push({ volume: f.volume, reader: await openDescriptor(f.file, f.file, VOLUME_MERGE) });
  }
  return CatalogMerge.open(volumes);
}
