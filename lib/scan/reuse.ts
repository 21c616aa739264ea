import { UsageError } from '../cli/errors';
import { ENTRIES, HEX_LENGTH } from '../records/entries';
import { compareKeyed, type Keyed } from '../records/order';
import { MORE, StreamReader } from '../records/stream-reader';
import type { EntriesHeader, Entry, HashAlg } from '../records/types';

const HASH_KEY = ',"hash":"';

/**
 * Hashes from a previous scan. Both streams are in canonical order and the
 * walk asks in that order, so this is a merge: one cursor, constant memory.
 */
export class Reuse {
  private current: Entry | undefined | typeof MORE = MORE;
  /** A hash as the records write it: `alg:` and its hex digits. */
  private readonly prefix: string;
  private readonly hashLength: number;

  private constructor(
    private readonly reader: StreamReader<EntriesHeader, Entry>,
    hash: HashAlg,
  ) {
    this.prefix = `${hash}:`;
    this.hashLength = this.prefix.length + HEX_LENGTH[hash];
    // A PREV whose header names no algorithm holds no valid hash: its lines go through the reader, which says so.
    this.quick = reader.header.hash === hash;
  }

  private readonly quick: boolean;

  static async open(source: string, hash: HashAlg | null): Promise<Reuse> {
    if (hash === null) throw new UsageError('--reuse', 'needs --hash: only hashes are reused');
    const reader = await StreamReader.open(source, ENTRIES);
    if (reader.header.hash !== null && reader.header.hash !== hash) {
      throw new UsageError('--reuse', `${source} was hashed with ${reader.header.hash}, this scan uses ${hash}`);
    }
    return new Reuse(reader, hash);
  }

  /**
   * PREV's entry for this path, undefined if it has none, or MORE: await
   * more() and ask again. When `line` (this scan's line for the file, without
   * hash and ctime) and its `ctime` are given and PREV's next line is exactly
   * that line with a hash and that ctime, the answer is that text itself,
   * recognised without parsing: the same size, mtime, inode and ctime, in a
   * line this scan would write. (A PREV written by cairn-scan is nearly all
   * such lines; parsing them was most of a re-scan's time.)
   */
  find(key: Keyed, line?: string, ctime?: string): Entry | string | undefined | typeof MORE {
    for (;;) {
      if (this.current === MORE) {
        const known = line !== undefined && this.quick ? this.recognise(key, line, ctime!) : undefined;
        if (known !== undefined) return known;
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

  private recognise(key: Keyed, line: string, ctime: string): string | undefined {
    const text = this.reader.peekText();
    if (text === undefined) return undefined;
    const head = line.length - 1; // line without its closing brace
    const hashAt = head + HASH_KEY.length;
    const tail = `","ctime":"${ctime}"}`;
    const hashEnd = text.length - tail.length;
    // Slices compared with ===, not startsWith/endsWith: V8 runs those a character at a time, 10x slower here.
    if (hashEnd !== hashAt + this.hashLength || text.slice(0, head) !== line.slice(0, head)) return undefined;
    if (text.slice(head, hashAt) !== HASH_KEY || text.slice(hashEnd) !== tail || !this.isHash(text, hashAt)) return undefined;
    this.reader.acceptPeeked(key);
    return text;
  }

  /** `alg:` and lower-case hex digits at text[at..]: a loop, a regex costs 0.5 us a line. */
  private isHash(text: string, at: number): boolean {
    if (text.slice(at, at + this.prefix.length) !== this.prefix) return false;
    for (let i = at + this.prefix.length; i < at + this.hashLength; i++) {
      const c = text.charCodeAt(i);
      if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
    }
    return true;
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
