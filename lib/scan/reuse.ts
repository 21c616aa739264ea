import { UsageError } from '../cli/errors';
import { ENTRIES } from '../records/entries';
import { compareKeyed, type Keyed } from '../records/order';
import { MORE, StreamReader } from '../records/stream-reader';
import type { EntriesHeader, Entry, HashAlg } from '../records/types';

/**
 * Hashes from a previous scan. Both streams are in canonical order and the
 * walk asks in that order, so this is a merge: one cursor, constant memory.
 */
export class Reuse {
  private current: Entry | undefined | typeof MORE = MORE;

  private constructor(private readonly reader: StreamReader<EntriesHeader, Entry>) {}

  static async open(source: string, hash: HashAlg | null): Promise<Reuse> {
    if (hash === null) throw new UsageError('--reuse', 'needs --hash: only hashes are reused');
    const reader = await StreamReader.open(source, ENTRIES);
    if (reader.header.hash !== null && reader.header.hash !== hash) {
      throw new UsageError('--reuse', `${source} was hashed with ${reader.header.hash}, this scan uses ${hash}`);
    }
    return new Reuse(reader);
  }

  /** PREV's entry for this path, undefined if it has none, or MORE: await more() and ask again. */
  find(key: Keyed): Entry | undefined | typeof MORE {
    for (;;) {
      if (this.current === MORE) {
        this.current = this.reader.take();
        if (this.current === MORE) return MORE;
      }
      if (this.current === undefined) return undefined;
      const c = compareKeyed(this.current, key);
      if (c === 0) return this.current;
      if (c > 0) return undefined;
      this.current = MORE;
    }
  }

  more(): Promise<void> {
    return this.reader.more();
  }

  /** Reads PREV to its end record: a damaged PREV fails the scan even where the walk did not need it. */
  async finish(): Promise<void> {
    while (this.current !== undefined) {
      if (this.current === MORE) await this.more();
      this.current = this.reader.take();
    }
  }
}
