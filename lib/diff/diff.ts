import { MORE, type StreamReader } from '../records/stream-reader';
import type { Attr, Change, CompareSettings, EntriesHeader, Entry, EntryBody, HashAlg } from '../records/types';
import { compareKeyed, isInside, keyOf } from '../records/order';
import { heapGuard } from '../cli/heap-guard';
import { algOfHash } from '../hash/digest';
import { compareEntries, needsHash } from './compare';
import { LinkGroups } from './link-groups';

export type EntriesReader = StreamReader<EntriesHeader, Entry>;

export interface DiffOptions {
  settings: CompareSettings;
  /** Emit `same` records for every path, not only for directories holding differences. */
  all: boolean;
  /** Hash a file of one side (for --checksum): its hash, or why it could not be read. */
  hash?: (side: 'a' | 'b', e: Entry, alg: HashAlg) => { hash: string } | { error: string };
  alg: HashAlg;
  emit: (c: Change) => void;
  /** Entries of each side to leave out (with their subtrees): filters given for a stream side, types the other side cannot hold. */
  keepA?: (e: Entry) => boolean;
  keepB?: (e: Entry) => boolean;
  /** Let the output drain and signals in, now and then. */
  pause: () => Promise<void>;
  interrupted: () => boolean;
}

export interface DiffCounts {
  a: number;
  b: number;
  differences: number;
}

export function body(e: Entry, link: string | undefined): EntryBody {
  const { path: _p, path_b64: _r, ...rest } = e;
  return link === undefined ? rest : { ...rest, link };
}

/** The next entry of a side that its filter keeps; a directory left out takes its subtree along. */
export class Side {
  private skipUnder: string | undefined;

  constructor(
    private readonly r: EntriesReader,
    private readonly keep: ((e: Entry) => boolean) | undefined,
  ) {}

  /** The next kept entry, or MORE when the reader has nothing buffered (then await next()): no promise per entry. */
  take(): Entry | undefined | typeof MORE {
    for (;;) {
      const x = this.r.take();
      if (x === MORE || x === undefined || this.keep === undefined) return x;
      const under = this.skipUnder;
      if (under !== undefined && isInside(x.path, under)) continue;
      this.skipUnder = undefined;
      if (this.keep(x)) return x;
      if (x.type === 'dir') this.skipUnder = x.path;
    }
  }

  /** The next line, unparsed and undecoded (latin1), when it is buffered and no filter applies (see twin). */
  peek(): string | undefined {
    return this.keep === undefined ? this.r.peekRaw() : undefined;
  }

  /**
   * Takes the next line, known to be character for character the line the
   * other side's `e` was parsed from: the same record, valid as that one was,
   * without parsing it again. Order is still checked, unless this side's last
   * record is `follows`, the one e's own reader checked e against.
   */
  twin(e: Entry, follows: Entry | undefined): void {
    this.r.acceptPeeked(e, follows);
  }

  async next(): Promise<Entry | undefined> {
    for (;;) {
      const x = this.take();
      if (x !== MORE) return x;
      await this.r.more();
    }
  }
}

interface Frame {
  path: string;
  /** A `same` directory not yet written: written before its first differing descendant. */
  pending: Change | undefined;
}

/**
 * The merge-join of two entries streams in canonical order: one record per
 * path that differs, with what differs. Memory holds the current path's
 * ancestors and the open hard-link groups, not the trees.
 *
 * A directory that is the same on both sides but holds differences is
 * written as `same` before them: a plan that changes its contents needs the
 * time to give it back afterwards.
 */
export async function diffStreams(ra: EntriesReader, rb: EntriesReader, o: DiffOptions): Promise<DiffCounts> {
  const counts: DiffCounts = { a: 0, b: 0, differences: 0 };
  const linksA = new LinkGroups();
  const linksB = new LinkGroups();
  const useLinks = o.settings.hardlinks && !o.settings.ignore.includes('link');
  const stack: Frame[] = [];
  const sa = new Side(ra, o.keepA);
  const sb = new Side(rb, o.keepB);
  let a = await sa.next();
  let b = await sb.next();
  // When b is a's own object standing for its twin line (see twinOf): b's inode number, if it differs. Compare never reads ino.
  let bIno: number | undefined;
  // Twins are taken only where nothing but compare and the writer look at b (--checksum reads files by their entries).
  // A record is checked against its own header for one thing, the hash algorithm: twins only between streams that agree on it.
  const twins = o.hash === undefined && ra.header.hash === rb.header.hash;
  let steps = 0;

  const enter = (path: string) => {
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!.path;
      if (isInside(path, top)) break;
      stack.pop();
    }
  };
  const write = (c: Change) => {
    for (const f of stack) {
      if (f.pending !== undefined) {
        o.emit(f.pending);
        f.pending = undefined;
      }
    }
    o.emit(c);
  };

  // Two streams' worth of parsed lines pass through: collect before V8 would, to stay within budget.
  const guard = heapGuard(48 << 20, 8);
  while (a !== undefined || b !== undefined) {
    if (++steps >= 512) {
      steps = 0;
      guard();
      await o.pause();
      if (o.interrupted()) break;
    }
    const cmp = a === undefined ? 1 : b === undefined ? -1 : compareKeyed(a, b);
    if (cmp !== 0) {
      // A path on one side only.
      const side = cmp < 0 ? 'a' : 'b';
      const e = (cmp < 0 ? a : b)!;
      counts[side]++;
      counts.differences++;
      enter(e.path);
      const leader = useLinks ? (cmp < 0 ? linksA : linksB).leaderOf(e) : undefined;
      write({ ...keyOf(e), change: cmp < 0 ? 'a-only' : 'b-only', [side]: body(e, leader) });
      if (e.type === 'dir') stack.push({ path: e.path, pending: undefined });
      if (cmp < 0) {
        const t = sa.take();
        a = t === MORE ? await sa.next() : t;
      } else {
        const t = sb.take();
        b = t === MORE ? await sb.next() : t;
      }
      continue;
    }
    const ea = a!;
    const eb = b!;
    const ino = bIno;
    counts.a++;
    counts.b++;
    enter(ea.path);
    const la = useLinks ? linksA.leaderOf(ea) : undefined;
    const lb = useLinks ? linksB.leaderOf(eb) : undefined;
    const bodyB = (): EntryBody => (ino === undefined ? body(eb, lb) : { ...body(eb, lb), ino });
    // Entries are compared as they are; bodies (copies without the path) are made only for what is written.
    let attrs: Attr[] = compareEntries(ea, eb, o.settings, la, lb);
    let ba: EntryBody | undefined;
    let bb: EntryBody | undefined;
    if (o.hash !== undefined && needsHash(ea, eb, attrs, o.settings)) {
      ba = body(ea, la);
      bb = body(eb, lb);
      attrs = settleByHash(ba, bb, ea, eb, o);
    }
    if (attrs.length > 0) {
      write({ ...keyOf(ea), change: 'differ', attrs, a: ba ?? body(ea, la), b: bb ?? bodyB() });
      counts.differences++;
      if (ea.type === 'dir' && eb.type === 'dir') stack.push({ path: ea.path, pending: undefined });
    } else if (o.all) {
      write({ ...keyOf(ea), change: 'same', a: body(ea, la), b: bodyB() });
      if (ea.type === 'dir') stack.push({ path: ea.path, pending: undefined });
    } else if (ea.type === 'dir') {
      stack.push({ path: ea.path, pending: { ...keyOf(ea), change: 'same', a: body(ea, la), b: bodyB() } });
    }
    // Two trees that mostly agree give mostly identical lines: B's twin of A's line is not parsed again (half the parsing of a no-op diff).
    const pa = twins ? sa.peek() : undefined;
    const pb = pa !== undefined ? sb.peek() : undefined;
    const prevA = ra.last;
    const ta = sa.take();
    a = ta === MORE ? await sa.next() : ta;
    const twin = pb !== undefined && ta !== MORE && ta !== undefined ? twinOf(pa!, pb, ta) : undefined;
    bIno = undefined;
    if (twin !== undefined) {
      sb.twin(ta as Entry, prevA as Entry | undefined);
      b = ta as Entry;
      if (twin !== 'same') bIno = twin;
    } else {
      const tb = sb.take();
      b = tb === MORE ? await sb.next() : tb;
    }
  }
  return counts;
}

const INO_KEY = ',"ino":';
/** The inode number trailingIno() read last. */
let trailing = 0;

/**
 * Where a line ending `,"ino":<digits>}` has that key, its inode number in
 * `trailing`; -1 for any other ending. Plain decimal digits only, no sign or
 * leading zero, exact as a double: as JSON.parse and the reader would take
 * them. A loop over the end of the line: lastIndexOf is a call into the
 * runtime (1.5% of a 1M-entry diff).
 */
function trailingIno(s: string): number {
  const close = s.length - 1;
  if (close < INO_KEY.length + 1 || s.charCodeAt(close) !== 0x7d) return -1;
  let value = 0;
  let place = 1;
  let i = close;
  for (let c = s.charCodeAt(i - 1); c >= 0x30 && c <= 0x39; c = s.charCodeAt(--i - 1)) {
    value += (c - 0x30) * place;
    place *= 10;
  }
  const digits = close - i;
  if (digits === 0 || digits > 15 || (digits > 1 && s.charCodeAt(i) === 0x30)) return -1;
  const at = i - INO_KEY.length;
  if (at < 0 || s.slice(at, i) !== INO_KEY) return -1;
  trailing = value;
  return at;
}

/**
 * Whether line b is line a's twin: the same text ('same'), or the same but
 * for the inode number that ends a file's line (two trees never share inode
 * numbers, so a file unchanged between them differs by that alone): then b's
 * inode number. Anything else, undefined: b is parsed as usual. Both lines
 * are raw latin1 texts (LineReader.peekRaw): equal texts are equal bytes,
 * where decoded texts of different bytes could be equal.
 */
export function twinOf(a: string, b: string, parsedA: Entry): 'same' | number | undefined {
  if (a === b) return 'same';
  if (typeof parsedA.ino !== 'number' || parsedA.nlink !== undefined) return undefined;
  const at = trailingIno(a);
  // a ends with its own inode number: that "ino" is the record's, not one inside a nested value.
  if (at < 0 || trailing !== parsedA.ino || trailingIno(b) !== at) return undefined;
  if (b.slice(0, at) !== a.slice(0, at)) return undefined;
  return trailing;
}

/** --checksum: hash what lacks a hash of the chosen algorithm, then compare again. */
function settleByHash(ba: EntryBody, bb: EntryBody, ea: Entry, eb: Entry, o: DiffOptions): Attr[] {
  // A side that already has a hash of another algorithm (an object's MD5 ETag) sets the algorithm: the other side is read, not both.
  const known = [ba.hash, bb.hash].filter((h): h is string => h !== undefined).map((h) => algOfHash(h));
  const alg = known.length === 0 || known.includes(o.alg) ? o.alg : known[0]!;
  const prefix = `${alg}:`;
  for (const [side, e, bd] of [['a', ea, ba], ['b', eb, bb]] as const) {
    if (bd.hash !== undefined && bd.hash.startsWith(prefix)) continue;
    const r = o.hash!(side, e, alg);
    if ('hash' in r) bd.hash = r.hash;
    else {
      delete bd.hash;
      bd.error = r.error;
    }
  }
  return compareEntries(ba, bb, o.settings);
}
