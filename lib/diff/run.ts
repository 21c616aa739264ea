import { UsageError, oneLine } from '../cli/errors';
import { requireAlg } from '../hash/digest';
import { NdjsonWriter } from '../records/writer';
import { STREAM_VERSION, type Change, type ChangesHeader, type CompareSettings, type EntriesHeader, type Entry, type FilterRule, type HashAlg } from '../records/types';
import { compileFilter } from '../filter/rules';
import { overrideCaps } from '../tree/local/caps';
import { fsPathOf } from '../tree/local/fs-path';
import { isS3 } from '../tree/s3/location';
import { compareSettings, type CompareFlags } from './compare';
import { diffStreams, type EntriesReader } from './diff';
import type { ThreeWayCounts } from './three-way';
import type { findFoldGroups } from './fold-groups';
import { isLocation, openScan, openStream, type SideScan } from './open-side';

export interface RunDiffOptions {
  a: string;
  b: string;
  /** Three-way: the state file of the pair (it may not exist yet: the first run). */
  base?: string;
  /** Three-way: names equal after NFC are one name when a side normalizes (default true). */
  normalization?: boolean;
  check: boolean;
  all: boolean;
  compare: CompareFlags;
  /** How a location side is scanned (its caps come from capsA/capsB). */
  scan: Omit<SideScan, 'caps'>;
  capsA?: string;
  capsB?: string;
  interrupted: () => boolean;
}

function adopt(h: EntriesHeader, rules: FilterRule[], caps: string | undefined): void {
  if (rules.length > 0) h.filters = [...h.filters, ...rules];
  if (caps !== undefined) h.caps = overrideCaps(h.caps, caps);
}

/** One line of --check output: `change<TAB>attrs<TAB>path` (three-way: the attrs column says what each side did, or the conflict). */
export function checkLine(c: Change): string {
  const what = c.conflict !== undefined ? `conflict:${c.a_change ?? '-'}/${c.b_change ?? '-'}` : c.a_change !== undefined || c.b_change !== undefined ? `${c.a_change ?? '-'}/${c.b_change ?? '-'}` : c.attrs?.join(',') ?? '-';
  return `${c.change}\t${what}\t${oneLine(c.path)}\n`;
}

/** Two sides of a two-way sync that are one tree, or one inside the other, would feed each other without end. */
function refuseOverlap(a: string, b: string): void {
  const inside = (x: string, y: string) => x === y || x.startsWith(y.endsWith('/') ? y : `${y}/`);
  if (inside(a, b) || inside(b, a)) throw new UsageError(`${a} ${b}`, a === b ? 'both sides are the same tree' : 'one side lies inside the other: a two-way sync needs two separate trees');
}

/**
 * --checksum on one side's file: a local file is read; an object is not
 * downloaded to be compared, its hash comes from its metadata (or ETag).
 */
function hashOf(root: string, e: Entry, alg: HashAlg): { hash: string } | { error: string } {
  if (!isS3(root)) return (require('../tree/local/rehash') as typeof import('../tree/local/rehash')).rehash(fsPathOf(root, e.path, e.path_b64), e, alg);
  if (e.hash !== undefined && e.hash.startsWith(`${alg}:`)) return { hash: e.hash };
  return { error: `no ${alg} hash in the object's metadata (objects are not downloaded to be compared; cairn-scan --hash ${alg} reads them)` };
}

function sideChanged(c: Change['a_change']): boolean {
  return c !== undefined && c !== 'unchanged';
}

function optional<K extends string, V>(k: K, v: V | undefined): { [P in K]?: V } {
  return (v !== undefined ? { [k]: v } : {}) as { [P in K]?: V };
}

/**
 * cairn-diff as a function. A side that is a stream is opened first, so its
 * filters can be applied to a side that is scanned: excluded files of one
 * side must not look like extra files of the other.
 */
export async function runDiff(o: RunDiffOptions): Promise<{ differences: number; problems: number }> {
  const locA = isLocation(o.a);
  const locB = isLocation(o.b);
  const streamA = locA ? undefined : await openStream(o.a);
  const streamB = locB ? undefined : await openStream(o.b);
  const inherited = [...(streamA?.header.filters ?? []), ...(streamB?.header.filters ?? [])];
  const scanOf = (caps: string | undefined): SideScan => ({ ...o.scan, rules: [...inherited, ...o.scan.rules], caps });
  const scanA = locA ? await openScan(o.a, scanOf(o.capsA)) : undefined;
  const scanB = locB ? await openScan(o.b, scanOf(o.capsB)) : undefined;
  const ra: EntriesReader = streamA ?? scanA!.reader;
  const rb: EntriesReader = streamB ?? scanB!.reader;
  // A stream side takes the filters and --caps given here, as a scanned side does.
  const filter = o.scan.rules.length > 0 ? compileFilter(o.scan.rules) : undefined;
  if (streamA !== undefined) adopt(streamA.header, o.scan.rules, o.capsA);
  if (streamB !== undefined) adopt(streamB.header, o.scan.rules, o.capsB);
  /** What a side leaves out: the filters, if it is a stream; symlinks, if the other side cannot hold them (FAT); fifos, sockets and devices, if it cannot make them (object storage). */
  const keep = (stream: EntriesReader | undefined, other: EntriesReader): ((e: Entry) => boolean) | undefined => {
    const filtered = stream !== undefined ? filter : undefined;
    const noLinks = !other.header.caps.symlinks;
    const noSpecials = other.header.caps.specials === false;
    if (filtered === undefined && !noLinks && !noSpecials) return undefined;
    return (e) =>
      !(noLinks && e.type === 'symlink') &&
      !(noSpecials && (e.type === 'fifo' || e.type === 'socket' || e.type === 'block' || e.type === 'char')) &&
      !(filtered !== undefined && filtered.excludes(e.path, e.type === 'dir'));
  };

  if (o.base !== undefined) refuseOverlap(ra.header.root, rb.header.root);
  // Loaded when used: every module a run does not need is start-up time for each command of a pipeline.
  const threeWay = o.base !== undefined ? await import('./three-way-run') : undefined;
  const rbase = threeWay !== undefined ? await threeWay.openBase(o.base!, ra.header, rb.header, o.scan.tool, o.scan.warn) : undefined;
  // Bisync propagates files, not hard links: each side keeps its own.
  const flat = (s: CompareSettings): CompareSettings => (rbase !== undefined ? { ...s, hardlinks: false } : s);
  const settings = flat(compareSettings(ra.header, rb.header, o.compare));
  const alg: HashAlg = rbase?.header.hash ?? ra.header.hash ?? rb.header.hash ?? 'sha256';
  if (settings.checksum !== 'off') requireAlg(alg, '--checksum');
  const header: ChangesHeader = {
    cairn: 'changes',
    version: STREAM_VERSION,
    a: ra.header,
    b: rb.header,
    base: rbase?.header ?? null,
    compare: settings,
    all: o.all,
    tool: o.scan.tool,
    created: new Date().toISOString(),
  };
  const writer = new NdjsonWriter();
  if (!o.check) writer.write(header);
  const roots: Record<'a' | 'b', EntriesHeader> = { a: ra.header, b: rb.header };
  const pause = async () => {
    if (writer.blocked) await writer.drain();
    await new Promise<void>((r) => setImmediate(r));
  };
  const emit = o.check
    ? (c: Change) => {
        // Three-way: every record says something happened on a side since the base.
        if (c.change !== 'same' || c.conflict !== undefined || sideChanged(c.a_change) || sideChanged(c.b_change)) writer.writeText(checkLine(c));
      }
    : (c: Change) => writer.write(c);
  /** The end of either kind of diff: the end record with its counts (none for --check or when interrupted). */
  const finish = async (differences: number, counts: Record<string, number>) => {
    if (o.interrupted()) {
      writer.flush();
      return { differences, problems: 0 };
    }
    if (o.check) {
      writer.flush();
      await writer.drain();
    } else await writer.end(counts);
    return { differences, problems: (scanA?.problems() ?? 0) + (scanB?.problems() ?? 0) };
  };
  if (rbase !== undefined) {
    // A side that folds names (FAT: case; macOS: normalization) needs to know the siblings that fold together: a first pass.
    const caps = { a: ra.header.caps, b: rb.header.caps };
    const folding = { caseFold: !caps.a.case_sensitive || !caps.b.case_sensitive, nfc: o.normalization !== false && (caps.a.unicode_normalizes || caps.b.unicode_normalizes) };
    const folds = {
      a: !caps.a.case_sensitive || (folding.nfc && caps.a.unicode_normalizes),
      b: !caps.b.case_sensitive || (folding.nfc && caps.b.unicode_normalizes),
    };
    const baseKeep = filter !== undefined ? (e: Entry) => !filter.excludes(e.path, e.type === 'dir') : undefined;
    let readers = { base: rbase, a: ra, b: rb };
    let keeps = { base: baseKeep, a: keep(streamA, rb), b: keep(streamB, ra) };
    let fold: Awaited<ReturnType<typeof findFoldGroups>> | undefined;
    if (folding.caseFold || folding.nfc) {
      fold = await threeWay!.findFoldGroups(readers, keeps, folding);
      readers = await fold.reopen();
      keeps = { base: undefined, a: undefined, b: undefined };
    }
    let counts: ThreeWayCounts;
    try {
      counts = await threeWay!.diffThreeWay(readers.base, readers.a, readers.b, {
        ab: settings,
        baseA: flat(compareSettings(rbase.header, ra.header, o.compare)),
        baseB: flat(compareSettings(rbase.header, rb.header, o.compare)),
        all: o.all && !o.check,
        alg,
        hash: (side, e, h) => hashOf(roots[side].root, e, h),
        ...optional('keep', keeps.base),
        ...optional('keepA', keeps.a),
        ...optional('keepB', keeps.b),
        ...(fold !== undefined ? { groups: fold.groups, folds, folding } : {}),
        emit,
        pause,
        interrupted: o.interrupted,
      });
    } finally {
      fold?.done();
    }
    return finish(counts.differences, { ...counts });
  }
  const counts = await diffStreams(ra, rb, {
    settings,
    all: o.all && !o.check,
    alg,
    hash: settings.checksum !== 'off' ? (side, e, h) => hashOf(roots[side].root, e, h) : undefined,
    keepA: keep(streamA, rb),
    keepB: keep(streamB, ra),
    emit,
    pause,
    interrupted: o.interrupted,
  });
  return finish(counts.differences, { a: counts.a, b: counts.b, differences: counts.differences });
}
