import { UsageError } from '../cli/errors';
import { ENTRIES } from '../records/entries';
import { compareKeyed } from '../records/order';
import { StreamReader } from '../records/stream-reader';
import type { HashAlg } from '../records/types';
import type { ReuseLookup } from '../tree/local/walk';

export interface Reuse {
  lookup: ReuseLookup;
  /** Reads PREV to its end record: a damaged PREV fails the scan even where the walk did not need it. */
  finish(): Promise<void>;
}

/**
 * Hashes from a previous scan. Both streams are in canonical order and the
 * walk asks in that order, so this is a merge: one cursor, constant memory.
 */
export async function openReuse(source: string, hash: HashAlg | null): Promise<Reuse> {
  if (hash === null) throw new UsageError('--reuse', 'needs --hash: only hashes are reused');
  const reader = await StreamReader.open(source, ENTRIES);
  if (reader.header.hash !== null && reader.header.hash !== hash) {
    throw new UsageError('--reuse', `${source} was hashed with ${reader.header.hash}, this scan uses ${hash}`);
  }
  let current = await reader.next();
  return {
    async lookup(path, pathB64) {
      const key = pathB64 === undefined ? { path } : { path, path_b64: pathB64 };
      while (current !== undefined && compareKeyed(current, key) < 0) current = await reader.next();
      return current !== undefined && compareKeyed(current, key) === 0 ? current : undefined;
    },
    async finish() {
      while (current !== undefined) current = await reader.next();
    },
  };
}
