import * as fs from 'node:fs';
import { requireAlg } from '../hash/digest';
import { UsageError, InputError, describeSystemError } from '../cli/errors';
import { parseTimeNs } from '../records/time';
import { human } from '../cli/progress';
import { loadCatalog, mergeCatalog } from '../catalog/catalog';
import type { Group } from '../catalog/merge';
import { volumeLabel } from '../catalog/names';
import { hashFd } from '../hash/file-hash';
import { rawBytes } from '../pack/member';
import { ENTRIES, POSIX_CAPS } from '../records/entries';
import { LineReader } from '../records/line-reader';
import { isInside } from '../records/order';
import { privateTemp, syncWriter } from '../records/spool';
import { MORE, StreamReader, inputName } from '../records/stream-reader';
import { STREAM_VERSION, type Action, type Entry, type EntryBody, type HashAlg, type MediumFormat, type PlanHeader, type VolumeHeader } from '../records/types';
import { NdjsonWriter } from '../records/writer';
import { assign, type Capacity, type SortOrder } from './archive-assign';
import { descriptorCost, formatBudget } from './archive-budget';
import { decide } from './archive-decide';
import { Items, Kind } from './archive-items';

export interface ArchiveOptions {
  input: string;
  catalog: string;
  mediumSize: number;
  format: MediumFormat;
  /** Volumes to plan. */
  volumes: number;
  sort: SortOrder;
  discard: number[];
  compress: boolean;
  /** Print what waits and how many media it needs instead of a plan. */
  stats: boolean;
  verbose: boolean;
  tool: string;
  warn: (what: string, why: string) => void;
}

/** Fields of a scan that mean nothing on a medium. */
const LOCAL_ONLY = ['ino', 'dev', 'nlink', 'ctime'] as const;

/** An entry as a descriptor (and a store action's src) carries it. */
export function storedBody(e: Entry | EntryBody): EntryBody {
  const body: Record<string, unknown> = {};
  const from = e as unknown as Record<string, unknown>;
  for (const k in from) if (!SKIP.has(k)) body[k] = from[k];
  return body as unknown as EntryBody;
}
const SKIP = new Set<string>(['path', 'path_b64', ...LOCAL_ONLY]);

function seconds(mtime: string): number {
  return Date.parse(`${mtime.slice(0, 19)}Z`) / 1000 + Number(mtime.slice(19, 29));
}

/** Bytes a part adds to a descriptor record: ,"part":{"offset":N,"size":N,"hash":"sha256:..."}. */
const PART_DESC = 160;
/** Bytes a missing hash adds: ,"hash":"sha256:<64 hex>". */
const HASH_DESC = 80;

/**
 * cairn-plan --archive: which objects of the source the catalog lacks, and
 * which of them go on the next volume(s). The source and the catalog are
 * merged in one pass (memory: the objects to store, as columns); the
 * objects are then packed into volumes; the plan is written from the spool.
 */
export async function planArchive(o: ArchiveOptions): Promise<{ waiting: boolean }> {
  const cat = await loadCatalog(o.catalog, o.discard);
  const reader = await StreamReader.open(o.input, ENTRIES);
  const h = reader.header;
  const newest = cat.headers.get(cat.files[cat.files.length - 1]?.volume ?? 0);
  const alg: HashAlg = newest?.hash ?? h.hash ?? 'sha256';
  // Files without a hash of the catalog's algorithm are hashed here.
  requireAlg(alg, newest !== undefined ? o.catalog : inputName(o.input));
  if (newest !== undefined && newest.root !== h.root) o.warn('', `the catalog archives ${newest.root}; planning ${h.root} against it`);
  const budget = formatBudget(o.format);
  const merge = await mergeCatalog(cat);
  const spool = privateTemp('archive');
  const items = new Items();
  let tombstones = 0;
  let tombDesc = 0;
  let maxPath = 0;
  const skipped = { unreadable: 0, sockets: 0 };
  try {
    const out = new NdjsonWriter(syncWriter(spool.fd));
    const dirs: { path: string; item: number }[] = [];
    const unknown: string[] = [];
    const gone = (g: Group): void => {
      const rec = g.held[0]!.rec;
      if (rec.tombstone) return;
      if (unknown.some((u) => isInside(g.path, u))) return;
      const t = g.path_b64 !== undefined ? { path: g.path, path_b64: g.path_b64, tombstone: true } : { path: g.path, tombstone: true };
      const line = JSON.stringify(t);
      out.writeLine(line);
      const d = Buffer.byteLength(line) + 1;
      items.add(Kind.Tombstone, -1, 0, d, 0, 0, false);
      tombstones++;
      tombDesc += d;
    };
    for (;;) {
      let e = reader.take();
      if (e === MORE) {
        await reader.more();
        continue;
      }
      if (e === undefined) break;
      if (e.path === '.cairn' || e.path.startsWith('.cairn/')) {
        throw new InputError(reader.file, reader.line, 'path', '.cairn is where media keep their catalog: leave it out of the source (cairn-scan --exclude /.cairn)');
      }
      const group = await merge.until(e, gone);
      while (dirs.length > 0 && !isInside(e.path, dirs[dirs.length - 1]!.path)) dirs.pop();
      while (unknown.length > 0 && !isInside(e.path, unknown[unknown.length - 1]!)) unknown.pop();
      const parent = dirs.length > 0 ? dirs[dirs.length - 1]!.item : -1;
      if (e.type === 'socket') {
        skipped.sockets++;
        continue;
      }
      if (e.error !== undefined && e.type !== 'dir') {
        skipped.unreadable++;
        continue;
      }
      const d = decide(e, group);
      if (d.kind === 'archived' && e.type !== 'dir') continue;
      const line = JSON.stringify(e);
      const name = rawBytes(e.path, e.path_b64);
      const nameLen = name.length - name.lastIndexOf(0x2f) - 1;
      if (name.length > maxPath) maxPath = name.length;
      const body = storedBody(e);
      // The descriptor line: path, path_b64 and the body, as cairn-pack writes it.
      let desc = Buffer.byteLength(JSON.stringify(body)) + Buffer.byteLength(JSON.stringify(e.path)) + 9 + (e.path_b64 !== undefined ? e.path_b64.length + 14 : 0);
      if (e.type === 'file' && (e.hash === undefined || !e.hash.startsWith(`${alg}:`))) desc += HASH_DESC;
      if ((e.nlink ?? 1) > 1) desc += maxPath + 12;
      const size = d.kind === 'store' ? d.missing.reduce((s, r) => s + r.size, 0) : 0;
      const head = budget.head(name, nameLen, e, e.size ?? 0);
      const i = items.add(e.type === 'dir' ? Kind.Dir : Kind.Object, parent, head, desc, size, seconds(e.mtime), d.kind === 'store');
      // A part's name is the file's and 27 bytes more: over 255 bytes no file system or ISO takes it.
      if (e.type === 'file' && nameLen + 27 > 255) items.noSplit.add(i);
      if (d.kind === 'store' && d.why === 'rest') {
        items.parted[i] = 1;
        items.ranges.set(i, d.missing);
      }
      out.writeLine(line);
      if (e.type === 'dir') {
        dirs.push({ path: e.path, item: i });
        if (e.error !== undefined || e.unscanned !== undefined) unknown.push(e.path);
      }
      e = undefined;
    }
    await merge.until(undefined, gone);
    await out.end();

    const wanted: number[] = [];
    for (let i = 0; i < items.n; i++) if (items.wanted[i]) wanted.push(i);
    if (o.sort === 'time') wanted.sort((a, b) => items.mtime[a]! - items.mtime[b]! || a - b);

    const header = volumeHeaderStub(cat.next, o, h.root, alg, h.caps);
    const descHead = descriptorCost(budget, 0);
    const descFile = (bytes: number): number => descHead + budget.body(bytes);
    let fixed = budget.fixed;
    for (const f of cat.files) fixed += descFile(fs.statSync(f.file).size);
    const cap: Capacity = {
      medium: o.mediumSize,
      fixed,
      descFixed: Buffer.byteLength(JSON.stringify(header)) + 512,
      descFile,
      body: budget.body,
      partHead: budget.partHead,
      partDesc: PART_DESC,
      unit: budget.unit,
      minPart: Math.max(budget.unit, Math.min(1 << 20, Math.floor(o.mediumSize / 64 / budget.unit) * budget.unit)),
    };
    const { volumes, left } = assign(items, wanted, cap, cat.next, o.stats ? Number.MAX_SAFE_INTEGER : o.volumes, tombDesc);
    if (volumes.length === 0 && wanted.length > 0) {
      throw new UsageError(`--medium-size ${o.mediumSize}`, `too small: not even the first object to store fits on an empty volume (the catalog files alone take ${human(fixed)})`);
    }
    if (o.stats) {
      await printStats(o, items, wanted, volumes, tombstones, spool.file, skipped);
      return { waiting: wanted.length > 0 };
    }
    const planHeader: PlanHeader = {
      cairn: 'plan',
      version: STREAM_VERSION,
      mode: 'archive',
      src: h.root,
      dst: cat.dir,
      src_caps: h.caps,
      dst_caps: { ...POSIX_CAPS, fs: o.format },
      hash: alg,
      versions: null,
      archive: {
        catalog: cat.dir,
        medium_size: o.mediumSize,
        format: o.format,
        volumes: volumes.map((v) => ({ volume: v.volume, label: volumeLabel(v.volume), bytes: v.bytes, files: v.files })),
        discards: cat.newDiscards,
        compress: o.compress,
      },
      tool: o.tool,
      created: new Date().toISOString(),
    };
    const counts = await writePlan(planHeader, items, spool.file, volumes.map((v) => v.volume), alg, o.warn);
    if (volumes.length === 0 && tombstones > 0) o.warn('', `nothing new to store; ${tombstones} deletions wait for the next volume`);
    const unsplittable = left.filter((i) => items.noSplit.has(i) && items.vol[i] === 0).length;
    if (unsplittable > 0) {
      o.warn('', `${unsplittable} larger than a medium with a name too long for the names of parts (NAME.cairn-part-OFFSET would pass 255 bytes): not archived on media of this size (--stats --verbose marks them -)`);
    }
    const waiting = left.filter((i) => items.kind[i] === Kind.Object).length;
    if (waiting > 0) o.warn('', `${waiting} ${waiting === 1 ? 'object waits' : 'objects wait'} for later volumes`);
    if (skipped.unreadable + skipped.sockets > 0) {
      o.warn('', `not archived: ${[skipped.unreadable ? `${skipped.unreadable} unreadable` : '', skipped.sockets ? `${skipped.sockets} sockets` : ''].filter(Boolean).join(', ')}`);
    }
    void counts;
    return { waiting: left.length > 0 };
  } finally {
    spool.done();
  }
}

/** The header a descriptor of this plan will have, for its size. */
function volumeHeaderStub(volume: number, o: ArchiveOptions, root: string, hash: HashAlg, caps: VolumeHeader['caps']): VolumeHeader {
  return {
    cairn: 'volume',
    version: STREAM_VERSION,
    volume,
    created: new Date().toISOString(),
    medium_size: o.mediumSize,
    format: o.format,
    label: volumeLabel(volume),
    root,
    hash,
    caps,
    discards: [...o.discard],
    tool: o.tool,
  };
}

async function* spoolRecords(file: string): AsyncGenerator<Record<string, unknown>> {
  const lines = new LineReader(fs.createReadStream(file, { highWaterMark: 1 << 20 }), 'spool');
  for (let t = await lines.next(); t !== undefined; t = await lines.next()) {
    const r = JSON.parse(t) as Record<string, unknown>;
    if (r.cairn === undefined) yield r;
  }
}

/**
 * Writes the plan: per volume, its objects in canonical order (tombstones
 * on the first). A file the scan did not hash is hashed here, and left out
 * if it changed since the scan.
 */
async function writePlan(header: PlanHeader, items: Items, spoolFile: string, volumes: number[], alg: HashAlg, warn: ArchiveOptions['warn']): Promise<number> {
  const w = new NdjsonWriter();
  w.write(header);
  let actions = 0;
  const hashes = new Map<number, string | null>();
  for (const v of volumes) {
    const links = new Map<string, string>();
    let i = -1;
    for await (const rec of spoolRecords(spoolFile)) {
      i++;
      if (items.kind[i] === Kind.Tombstone) {
        if (v !== volumes[0]) continue;
        w.write({ op: 'tombstone', path: rec.path, ...(rec.path_b64 !== undefined ? { path_b64: rec.path_b64 } : {}), volume: v });
        actions++;
        continue;
      }
      if (!items.on(i, v)) continue;
      const e = rec as unknown as Entry;
      // A hash of another algorithm than the catalog's cannot go in its descriptors.
      if (e.hash !== undefined && !e.hash.startsWith(`${alg}:`)) delete e.hash;
      if (e.type === 'file' && e.hash === undefined) {
        if (!hashes.has(i)) hashes.set(i, hashNow(header.src, e, alg, warn));
        const hash = hashes.get(i);
        if (hash === null) continue;
        e.hash = hash!;
      }
      const a: Action = { op: 'store', path: e.path, volume: v, src: storedBody(e) };
      if (e.path_b64 !== undefined) a.path_b64 = e.path_b64;
      const parts = items.parts.get(i);
      if (parts !== undefined) {
        for (const p of parts) if (p.volume === v) (w.write({ ...a, part: { offset: p.offset, size: p.size } }), actions++);
        if (w.blocked) await w.drain();
        continue;
      }
      if (e.type === 'file' && (e.nlink ?? 1) > 1 && e.ino !== undefined) {
        const key = `${e.dev ?? ''}:${e.ino}`;
        const first = links.get(key);
        if (first !== undefined) a.link = first;
        else links.set(key, e.path);
      }
      w.write(a);
      actions++;
      if (w.blocked) await w.drain();
    }
  }
  await w.end({ actions, volumes: volumes.length });
  return actions;
}

/** Hashes a file the scan did not hash; null (and a warning) when it is not as scanned any more. */
function hashNow(root: string, e: Entry, alg: HashAlg, warn: ArchiveOptions['warn']): string | null {
  let fd: number | undefined;
  try {
    fd = fs.openSync(Buffer.concat([Buffer.from(`${root}/`), rawBytes(e.path, e.path_b64)]), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    const hash = hashFd(fd, alg);
    const st = fs.fstatSync(fd, { bigint: true });
    if (st.size !== BigInt(e.size ?? 0) || st.mtimeNs !== parseTimeNs(e.mtime)) {
      warn(e.path, 'changed since the scan: left out of this volume (scan again)');
      return null;
    }
    return hash;
  } catch (err) {
    warn(e.path, `${describeSystemError(err)}: left out of this volume`);
    return null;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

async function printStats(
  o: ArchiveOptions,
  items: Items,
  wanted: number[],
  volumes: { volume: number; bytes: number }[],
  tombstones: number,
  spoolFile: string,
  skipped: { unreadable: number; sockets: number },
): Promise<void> {
  let files = 0;
  let bytes = 0;
  for (const i of wanted) {
    if (items.kind[i] !== Kind.Object) continue;
    files++;
    bytes += items.size[i]!;
  }
  // Objects no medium of this size can take (the catalog files fill too much of it).
  const fitsNowhere = (i: number): boolean => items.vol[i] === 0 || (items.ranges.get(i)?.length ?? 0) > 0;
  let nowhere = 0;
  for (const i of wanted) if (items.kind[i] === Kind.Object && fitsNowhere(i)) nowhere++;
  const lines: string[] = [];
  if (o.verbose) {
    let i = -1;
    for await (const rec of spoolRecords(spoolFile)) {
      i++;
      if (!items.wanted[i] || items.kind[i] !== Kind.Object) continue;
      const first = fitsNowhere(i) ? '-' : String(items.vol[i]! - (volumes[0]?.volume ?? 0) + 1);
      lines.push(`${first.padStart(4)} ${String(items.size[i]).padStart(14)} ${rec.path as string}\n`);
    }
  }
  const media = volumes.length;
  const size = `${o.mediumSize} bytes`;
  const n = (k: number, one: string, many: string): string => `${k} ${k === 1 ? one : many}`;
  lines.push(
    `${n(files, 'object', 'objects')} (${human(bytes)}) ${files === 1 ? 'waits' : 'wait'} to be archived; ${n(tombstones, 'deletion', 'deletions')} to record; ` +
      `${n(media, 'medium', 'media')} of ${size} (${o.format}) needed` +
      (nowhere > 0 ? `; ${n(nowhere, 'object does', 'objects do')} not fit on any medium of this size (marked - above with --verbose)` : '') +
      (skipped.unreadable + skipped.sockets ? `; not archivable: ${skipped.unreadable} unreadable, ${skipped.sockets} sockets` : '') +
      '\n',
  );
  for (const l of lines) if (!process.stdout.write(l)) await new Promise((r) => process.stdout.once('drain', r));
}
