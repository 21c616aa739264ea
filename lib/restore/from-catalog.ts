import * as fs from 'node:fs';
import * as path from 'node:path';
import { UsageError } from '../cli/errors';
import { parseTimeFlag } from '../cli/values';
import { CatalogMerge, type Group } from '../catalog/merge';
import { listCatalog, type CatalogFile } from '../catalog/names';
import { openDescriptor, readVolumeHeader } from '../catalog/open';
import { algOfHash, newDigest, requireAlg } from '../hash/digest';
import { partName, rawBytes, splitRdev } from '../pack/member';
import { timeParts } from '../records/time';
import { STREAM_VERSION, type Entry, type VolumeHeader, type VolumeRecord } from '../records/types';
import { NdjsonWriter } from '../records/writer';
import { destCaps, destination } from './run';
import { IS_ROOT } from '../tree/local/write';
import { openTar } from './byte-source';
import { catalogOf, ejectDescriptor, identify, mount, type Medium } from './media';
import { Report } from './report';
import { Restorer, type Item, type Outcome } from './restorer';
import type { RestoreOptions } from './run';
import type { Selector } from './select';
import { TarError, TarReader } from './tar-read';

type Stored = Entry & { link?: string; part?: { offset: number; size: number; hash: string } };
type Part = { volume: number; offset: number; size: number; hash: string };

/** One object of the tree to restore, as the catalog knows it. */
interface Want {
  name: Buffer;
  rec: Stored;
  /** Volumes holding this version whole (files). */
  volumes: number[];
  /** A split file: its parts, each on one volume. */
  parts?: Part[];
  /** Why it cannot be restored (a split file with parts missing). */
  missing?: string;
  /** The volume chosen for it. */
  from?: number;
}

function itemOf(w: Want): Item {
  const r = w.rec;
  const item: Item = {
    name: w.name,
    type: r.link !== undefined ? 'hardlink' : (r.type as Item['type']),
    size: r.size ?? 0,
    mode: parseInt(r.mode ?? '0644', 8),
    uid: r.uid ?? 0,
    gid: r.gid ?? 0,
    mtimeSec: 0,
    mtimeNsec: 0,
  };
  const [sec, nsec] = timeParts(r.mtime);
  item.mtimeSec = sec;
  item.mtimeNsec = nsec;
  if (r.type === 'symlink') item.link = rawBytes(r.target ?? '', r.target_b64);
  if (r.link !== undefined) item.link = Buffer.from(r.link, 'utf8');
  if (r.hash !== undefined) item.hash = r.hash;
  if ((r.type === 'char' || r.type === 'block') && r.rdev !== undefined) {
    const d = splitRdev(r.rdev);
    item.devmajor = d.major;
    item.devminor = d.minor;
  }
  return item;
}

/** The same version of a file: what a volume holds whole or in part for the newest record. */
function sameFile(a: VolumeRecord, b: Stored): boolean {
  return !a.tombstone && a.type === 'file' && a.size === b.size && a.hash === b.hash;
}

/**
 * The volumes to ask for, fewest: the volumes that must be read (parts of
 * split files) first, then again and again the volume that serves the most
 * of what is left. Files get their `from`.
 */
function chooseMedia(wants: Want[]): number[] {
  const order: number[] = [];
  const chosen = new Set<number>();
  const need = new Map<number, number>();
  for (const w of wants) if (w.missing === undefined) for (const p of w.parts ?? []) need.set(p.volume, (need.get(p.volume) ?? 0) + 1);
  const open = wants.filter((w) => w.rec.type === 'file' && w.parts === undefined && w.missing === undefined);
  const take = (v: number): void => {
    chosen.add(v);
    for (const w of open) if (w.from === undefined && w.volumes.includes(v)) w.from = v;
  };
  for (const v of [...need.keys()].sort((a, b) => (need.get(b)! - need.get(a)!) || a - b)) take(v);
  for (;;) {
    const count = new Map<number, number>();
    for (const w of open) if (w.from === undefined) for (const v of w.volumes) count.set(v, (count.get(v) ?? 0) + 1);
    if (count.size === 0) break;
    const best = [...count.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]![0];
    take(best);
  }
  // Greedy can keep a volume whose objects the later ones hold too: drop such ones, smallest first.
  for (const v of [...chosen].sort((a, b) => a - b)) {
    if (need.has(v)) continue;
    const mine = open.filter((w) => w.from === v);
    if (mine.every((w) => w.volumes.some((u) => u !== v && chosen.has(u)))) {
      chosen.delete(v);
      for (const w of mine) w.from = w.volumes.find((u) => u !== v && chosen.has(u));
    }
  }
  // Served counts decide the order: the volume with the most objects first.
  const served = new Map<number, number>();
  for (const w of wants) {
    if (w.from !== undefined) served.set(w.from, (served.get(w.from) ?? 0) + 1);
    if (w.missing === undefined) for (const p of w.parts ?? []) served.set(p.volume, (served.get(p.volume) ?? 0) + 1);
  }
  order.push(...[...chosen].sort((a, b) => (served.get(b) ?? 0) - (served.get(a) ?? 0) || a - b));
  return order;
}

/** The volumes that count at --as-of: up to volume N, or made at or before TIME; less the discarded. */
function countingVolumes(files: CatalogFile[], headers: Map<number, VolumeHeader>, asOf: string | undefined): { counting: CatalogFile[]; asOf: number | null } {
  let upTo = Number.MAX_SAFE_INTEGER;
  if (asOf !== undefined) {
    if (/^\d+$/.test(asOf)) upTo = Number(asOf);
    else {
      const t = parseTimeFlag('--as-of', asOf);
      upTo = 0;
      for (const f of files) if (headers.get(f.volume)!.created.length > 0 && new Date(headers.get(f.volume)!.created).toISOString() <= new Date(t.slice(0, 23) + 'Z').toISOString()) upTo = f.volume;
    }
  }
  const considered = files.filter((f) => f.volume <= upTo);
  const discarded = new Set<number>();
  for (const f of considered) for (const n of headers.get(f.volume)!.discards) if (n < f.volume) discarded.add(n);
  return { counting: considered.filter((f) => !discarded.has(f.volume)), asOf: asOf === undefined ? null : considered.length > 0 ? considered[considered.length - 1]!.volume : 0 };
}

/**
 * cairn-restore from a catalog and its media: the tree as the catalog knows
 * it (at --as-of), selected, restored with the fewest media, each asked for
 * once. Directories, symlinks and special files come from the descriptors
 * alone; file contents from the media, checked against their hashes.
 */
export async function restoreCatalog(o: RestoreOptions, select: Selector, mirror: string | undefined): Promise<{ attention: boolean }> {
  if (mirror !== undefined) {
    const { restoreMirror } = await import('./from-mirror');
    return restoreMirror(o, select, mirror);
  }
  const media = new Map<number, Medium>();
  for (const m of o.media) {
    const id = await identify(m);
    if (!media.has(id.volume)) media.set(id.volume, id);
  }
  let catDir = o.catalog !== undefined ? path.resolve(o.catalog) : undefined;
  let done = (): void => {};
  if (catDir === undefined) {
    if (media.size === 0) throw new UsageError('--mounter', 'needs --catalog (the mounter is asked for media the catalog names)');
    const newest = [...media.values()].sort((a, b) => b.volume - a.volume)[0]!;
    const c = await catalogOf(newest);
    catDir = c.dir;
    done = c.done;
  }
  try {
    const files = listCatalog(catDir);
    if (files.length === 0) throw new UsageError(`--catalog ${o.catalog ?? catDir}`, 'holds no volume descriptor');
    const headers = new Map<number, VolumeHeader>();
    for (const f of files) headers.set(f.volume, await readVolumeHeader(f));
    // Before anything is written: files that could not be checked would not be restored.
    for (const f of files) requireAlg(headers.get(f.volume)!.hash, f.file);
    const { counting, asOf } = countingVolumes(files, headers, o.asOf);
    const readers = [];
    for (const f of counting) readers.push({ volume: f.volume, reader: await openDescriptor(f.file) });
    const merge = await CatalogMerge.open(readers);
    const wants: Want[] = [];
    const add = (g: Group): void => {
      const newest = g.held[0]!;
      if (newest.rec.tombstone) return;
      const rec = newest.rec as Stored;
      if (!select(rec.path, rec.type === 'dir')) return;
      const w: Want = { name: rawBytes(rec.path, rec.path_b64), rec, volumes: [] };
      if (rec.type === 'file' && (rec.error !== undefined || rec.hash === undefined)) w.missing = `archived without its content (${rec.error ?? 'no hash'}): nothing to restore it from`;
      if (rec.type === 'file' && rec.part !== undefined) {
        const parts = new Map<number, Part>();
        for (const h of g.held) {
          const r = h.rec as Stored;
          if (!sameFile(h.rec, rec) || r.part === undefined || parts.has(r.part.offset)) continue;
          parts.set(r.part.offset, { volume: h.volume, offset: r.part.offset, size: r.part.size, hash: r.part.hash });
        }
        w.parts = [...parts.values()].sort((a, b) => a.offset - b.offset);
        let at = 0;
        for (const p of w.parts) if (p.offset <= at) at = Math.max(at, p.offset + p.size);
        if (at < (rec.size ?? 0)) w.missing = `split over media, and the parts from byte ${at} on are on none that counts (archive the rest first)`;
      } else if (rec.type === 'file') {
        w.volumes = g.held.filter((h) => sameFile(h.rec, rec) && (h.rec as Stored).part === undefined).map((h) => h.volume);
      }
      wants.push(w);
    };
    await merge.until(undefined, add);
    const order = chooseMedia(wants);

    if (o.list) {
      const w = new NdjsonWriter();
      w.write({ cairn: 'restore', version: STREAM_VERSION, catalog: catDir, as_of: asOf, media: order, tool: o.tool, created: new Date().toISOString() });
      const line = (x: Want, volume: number | null, part?: { offset: number; size: number }): void => {
        const r: Record<string, unknown> = { volume, path: x.rec.path };
        if (x.rec.path_b64 !== undefined) r.path_b64 = x.rec.path_b64;
        r.type = x.rec.type;
        if (x.rec.size !== undefined) r.size = x.rec.size;
        if (part) r.part = part;
        w.write(r);
      };
      // What needs no medium first (the descriptors hold all of it), then medium by medium.
      for (const x of wants) if (x.rec.type !== 'file' || x.missing !== undefined) line(x, null);
      for (const v of order) {
        for (const x of wants) {
          if (x.from === v) line(x, v);
          for (const p of x.parts ?? []) if (p.volume === v && x.missing === undefined) line(x, v, { offset: p.offset, size: p.size });
        }
        if (w.blocked) await w.drain();
      }
      await w.end({ objects: wants.length, media: order.length });
      return { attention: false };
    }

    const dest = destination(o.dest);
    const r = new Restorer({ dest, overwrite: o.overwrite, dryRun: o.dryRun, ...destCaps(dest) });
    const report = new Report({ src: { catalog: catDir, media: order, as_of: asOf }, dst: dest, dry_run: o.dryRun }, o.warn, o.tool);
    const source = 'catalog';
    // 1. Everything but file contents, from the descriptors.
    for (const w of wants) {
      if (w.rec.type === 'file') {
        if (w.missing !== undefined) await report.add(source, { name: w.name, type: 'file', status: 'failed', error: w.missing });
        continue;
      }
      const item = itemOf(w);
      let out: Outcome;
      if (w.rec.type === 'dir') out = r.dir(item);
      else if (w.rec.type === 'symlink') out = r.symlink(item);
      else if (w.rec.type !== 'fifo' && !IS_ROOT) out = { status: 'skipped', error: 'device nodes are made by root only' };
      else out = r.special(item);
      await report.add(source, { name: w.name, type: w.rec.type, ...out });
    }
    // 2. File contents, medium by medium.
    const splits = new Map<Want, ReturnType<Restorer['splitStart']>>();
    const restoredOk = new Set<string>();
    const eject = o.mounter !== undefined ? ejectDescriptor() : undefined;
    try {
      for (const v of order) {
        const onIt = wants.filter((w) => w.from === v || (w.missing === undefined && w.parts?.some((p) => p.volume === v)));
        let medium = media.get(v);
        let problem: string | undefined;
        if (medium === undefined && o.mounter !== undefined) {
          const m = mount(o.mounter, files.find((f) => f.volume === v)!.file);
          if (m.dir !== undefined) {
            try {
              medium = await identify(m.dir);
              if (medium.volume !== v) problem = `the mounter gave a medium of volume ${medium.volume}, not ${v}`;
            } catch (err) {
              problem = `the mounter's ${m.dir}: ${(err as Error).message}`;
            }
          } else problem = m.error;
        } else if (medium === undefined) problem = `volume ${v} is needed: give its medium (--media) or a --mounter`;
        if (problem !== undefined || medium === undefined) {
          for (const w of onIt) {
            const why = problem ?? 'no medium';
            if (w.parts !== undefined) {
              // Reported once, with the split files at the end: the other parts cannot make it whole.
              const h = splits.get(w);
              if (h !== undefined && 'fd' in h) {
                fs.closeSync(h.fd);
                fs.rmSync(h.tmp, { force: true });
              }
              splits.set(w, { status: 'failed', error: `its part on volume ${v} cannot be read: ${why}` });
            } else await report.add(source, { name: w.name, type: 'file', volume: v, status: 'failed', error: why });
          }
          continue;
        }
        await fromMedium(medium, v, onIt, r, report, splits, restoredOk);
      }
      // Split files: done when their last part is in.
      for (const [w, h] of splits) {
        const out = 'fd' in h ? r.splitEnd(h, itemOf(w), undefined) : h;
        await report.add(source, { name: w.name, type: 'file', ...out });
      }
    } finally {
      if (eject !== undefined) {
        mount(o.mounter!, eject.file);
        eject.done();
      }
    }
    r.finish();
    await report.end();
    return { attention: report.problems > 0 };
  } finally {
    done();
  }
}

/** The name of what a want is on a medium: the path, or the part's name. */
function memberName(w: Want, offset?: number): Buffer {
  return offset === undefined ? w.name : partName(w.name, offset);
}

/** Restores the files (and parts) of one volume from its medium: a directory or a volume tar. */
async function fromMedium(m: Medium, v: number, onIt: Want[], r: Restorer, report: Report, splits: Map<Want, ReturnType<Restorer['splitStart']>>, restoredOk: Set<string>): Promise<void> {
  const source = m.path;
  const splitOf = (w: Want): ReturnType<Restorer['splitStart']> => {
    let h = splits.get(w);
    if (h === undefined) splits.set(w, (h = r.splitStart(itemOf(w))));
    return h;
  };
  const done = (w: Want, status: string): void => {
    if (status === 'done' || status === 'same') restoredOk.add(w.rec.path);
  };
  // Each needed member: a whole file, or one part of a split file.
  const needed = new Map<string, { w: Want; part?: Part }>();
  // Hard links: in a tar, a link member to a path of the same volume; linked once that path is restored,
  // or given the content of that path's member when it is not restored itself.
  const links: Want[] = [];
  const targets = new Set(onIt.filter((w) => w.rec.link === undefined).map((w) => w.rec.path));
  for (const w of onIt) {
    if (w.parts !== undefined) {
      for (const p of w.parts) if (p.volume === v) needed.set(memberName(w, p.offset).toString('latin1'), { w, part: p });
    } else if (w.rec.link !== undefined && targets.has(w.rec.link)) links.push(w);
    else if (w.rec.link !== undefined && m.kind === 'tar') needed.set(Buffer.from(w.rec.link, 'utf8').toString('latin1'), { w });
    else needed.set(memberName(w).toString('latin1'), { w });
  }
  const one = async (key: string, read: (write: (c: Buffer) => void) => Promise<void>): Promise<void> => {
    const n = needed.get(key)!;
    needed.delete(key);
    const item = itemOf(n.w);
    if (n.part === undefined) {
      const { link: _l, ...plain } = item;
      const out = await r.file({ ...plain, type: 'file' }, read);
      done(n.w, out.status);
      await report.add(source, { name: n.w.name, type: 'file', volume: v, ...out });
      return;
    }
    const h = splitOf(n.w);
    if (!('fd' in h)) return; // same, skipped or refused: said once, at the end
    let pos = n.part.offset;
    const hash = newDigest(algOfHash(n.part.hash));
    await read((c) => {
      hash.update(c);
      r.splitWrite(h, pos, c);
      pos += c.length;
    });
    const hex = `${algOfHash(n.part.hash)}:${hash.digest('hex')}`;
    if (hex !== n.part.hash || pos !== n.part.offset + n.part.size) {
      splits.set(n.w, { status: 'failed', error: `its part at ${n.part.offset} on volume ${v} does not verify` });
      fs.closeSync(h.fd);
      fs.rmSync(h.tmp, { force: true });
    }
  };
  if (m.kind === 'dir') {
    for (const key of [...needed.keys()]) {
      const file = Buffer.concat([Buffer.from(`${m.path}/`), Buffer.from(key, 'latin1')]);
      let fd: number;
      try {
        fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
      } catch (err) {
        const n = needed.get(key)!;
        needed.delete(key);
        await report.add(source, { name: n.w.name, type: 'file', volume: v, status: 'failed', error: `not on the medium: ${(err as Error).message}` });
        continue;
      }
      try {
        const n = needed.get(key)!;
        const want = n.part?.size ?? n.w.rec.size ?? 0;
        if (!fs.fstatSync(fd).isFile()) {
          needed.delete(key);
          await report.add(source, { name: n.w.name, type: 'file', volume: v, status: 'failed', error: 'not a regular file on the medium' });
          continue;
        }
        // No more than the catalog says (and one byte to tell a longer file): a medium is input too.
        await one(key, async (write) => {
          const buf = Buffer.allocUnsafe(1 << 20);
          for (let pos = 0, got; pos <= want && (got = fs.readSync(fd, buf, 0, Math.min(buf.length, want + 1 - pos), pos)) > 0; pos += got) write(buf.subarray(0, got));
        });
      } finally {
        fs.closeSync(fd);
      }
    }
  } else {
    const reader = new TarReader(await openTar(m.path));
    try {
      while (needed.size > 0) {
        const member = await reader.next();
        if (member === undefined) break;
        const key = member.name.toString('latin1').replace(/^\.\//, '');
        if (!needed.has(key) || member.type !== 'file') continue;
        await one(key, (write) => reader.content(write));
      }
    } catch (err) {
      if (!(err instanceof TarError)) throw err;
      // A broken medium: what it still owed fails, the other media go on.
      for (const n of needed.values()) await report.add(source, { name: n.w.name, type: 'file', volume: v, status: 'failed', error: `the medium's tar is broken: ${err.message}` });
      needed.clear();
    }
  }
  for (const n of needed.values()) await report.add(source, { name: n.w.name, type: 'file', volume: v, status: 'failed', error: 'not on the medium' });
  for (const w of links) {
    // Linked only to what this run restored right; otherwise (its target skipped or failed) it has no content here.
    const out = restoredOk.has(w.rec.link!) ? r.hardlink(itemOf(w)) : { status: 'failed' as const, error: `its hard link target ${w.rec.link} was not restored` };
    await report.add(source, { name: w.name, type: 'hardlink', volume: v, ...out });
  }
}
