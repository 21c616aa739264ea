import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { bash, q, snapshot } from './sync';

/*
 * An independent reader of an archive catalog, for the archive tests: it
 * shares no code with lib/ (no StreamReader, no CatalogMerge), only what
 * cairn-records(5) and the archive spec say a descriptor is.
 */

/** A record of a volume descriptor (an entry, or a tombstone). */
export interface DescRecord {
  path: string;
  type?: string;
  size?: number;
  mtime?: string;
  hash?: string;
  target?: string;
  link?: string;
  tombstone?: true;
  part?: { offset: number; size: number; hash: string };
}

export interface Descriptor {
  volume: number;
  /** The catalog file. */
  file: string;
  /** Its first two bytes are the gzip magic. */
  gzip: boolean;
  header: Record<string, unknown> & { volume: number; discards: number[] };
  records: DescRecord[];
}

const NAME = /^vol-(\d{4,})\.ndjson(\.gz)?$/;

/** The text of a descriptor file, gunzipped when it starts with the gzip magic. */
export function descriptorText(file: string): { text: string; gzip: boolean } {
  const raw = fs.readFileSync(file);
  const gzip = raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b;
  return { text: (gzip ? zlib.gunzipSync(raw) : raw).toString('utf8'), gzip };
}

/** Parses a descriptor's NDJSON: header line, records, end record. */
export function parseDescriptor(text: string, what: string): { header: Descriptor['header']; records: DescRecord[] } {
  assert.ok(text.endsWith('\n'), `${what}: no final newline`);
  const lines = text.slice(0, -1).split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const header = lines[0]!;
  assert.equal(header.cairn, 'volume', `${what}: header`);
  assert.deepEqual(lines.at(-1), { cairn: 'end' }, `${what}: end record`);
  return { header: header as Descriptor['header'], records: lines.slice(1, -1) as unknown as DescRecord[] };
}

/** Every descriptor of a catalog directory, by volume; temporary files and other names are ignored. */
export function readCatalog(dir: string): Descriptor[] {
  const out: Descriptor[] = [];
  for (const name of fs.readdirSync(dir).sort()) {
    const m = NAME.exec(name);
    if (!m) continue;
    const file = path.join(dir, name);
    const { text, gzip } = descriptorText(file);
    const { header, records } = parseDescriptor(text, name);
    assert.equal(header.volume, Number(m[1]), `${name}: volume number in its header`);
    out.push({ volume: header.volume, file, gzip, header, records });
  }
  return out.sort((a, b) => a.volume - b.volume);
}

/** Volumes named as discarded by a later descriptor. */
export function discardedVolumes(descs: Descriptor[]): Set<number> {
  const out = new Set<number>();
  for (const d of descs) for (const n of d.header.discards ?? []) if (n < d.volume) out.add(n);
  return out;
}

/** What the catalog says is archived at a path, and where. */
export interface Archived {
  type: string;
  size?: number;
  hash?: string;
  target?: string;
  /** The volume of the newest record (the whole object, or its newest part). */
  volume: number;
  /** A split file: its parts (same version) on the counting volumes, by offset. */
  parts?: { volume: number; offset: number; size: number; hash: string }[];
  /** A split file whose parts do not cover it yet. */
  incomplete?: true;
}

/**
 * The archived state: per path, the newest record on a volume that is not
 * discarded; a tombstone removes the path; a split file is the union of
 * the parts of its version (size and hash) on counting volumes.
 */
export function archivedState(descs: Descriptor[]): Map<string, Archived> {
  const discarded = discardedVolumes(descs);
  const byPath = new Map<string, { volume: number; rec: DescRecord }[]>();
  for (const d of descs) {
    if (discarded.has(d.volume)) continue;
    for (const rec of d.records) {
      let l = byPath.get(rec.path);
      if (l === undefined) byPath.set(rec.path, (l = []));
      l.push({ volume: d.volume, rec });
    }
  }
  const out = new Map<string, Archived>();
  for (const [p, held] of byPath) {
    held.sort((a, b) => b.volume - a.volume);
    const newest = held[0]!;
    if (newest.rec.tombstone) continue;
    const r = newest.rec;
    const a: Archived = { type: r.type!, volume: newest.volume };
    if (r.size !== undefined && r.type === 'file') a.size = r.size;
    if (r.hash !== undefined) a.hash = r.hash;
    if (r.target !== undefined) a.target = r.target;
    if (r.part !== undefined) {
      const parts = held
        .filter((h) => !h.rec.tombstone && h.rec.part !== undefined && h.rec.hash === r.hash && h.rec.size === r.size)
        .map((h) => ({ volume: h.volume, ...h.rec.part! }))
        .sort((x, y) => x.offset - y.offset);
      a.parts = parts;
      let at = 0;
      for (const x of parts) if (x.offset <= at) at = Math.max(at, x.offset + x.size);
      if (at < r.size!) a.incomplete = true;
    }
    out.set(p, a);
  }
  return new Map([...out].sort(([x], [y]) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
}

/** An object as both the catalog view and the scan view compare it. */
export interface View {
  type: string;
  size?: number;
  hash?: string;
  target?: string;
}

function sortedMap<T>(m: Map<string, T>): Map<string, T> {
  return new Map([...m].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
}

/** The archived state as type, size, hash and target (complete objects only). */
export function catalogView(state: Map<string, Archived>): Map<string, View> {
  const out = new Map<string, View>();
  for (const [p, a] of state) {
    if (a.incomplete) continue;
    out.set(p, view(a));
  }
  return sortedMap(out);
}

function view(o: View): View {
  const v: View = { type: o.type };
  if (o.type === 'file') {
    v.size = o.size!;
    v.hash = o.hash!;
  }
  if (o.type === 'symlink') v.target = o.target!;
  return v;
}

/** A scan (cairn-scan --hash sha256 output) as views. */
export function scanView(scanText: string): Map<string, View> {
  const out = new Map<string, View>();
  for (const l of scanText.trimEnd().split('\n')) {
    const r = JSON.parse(l) as Record<string, unknown>;
    if (r.cairn !== undefined) continue;
    assert.ok(r.type !== 'file' || typeof r.hash === 'string', `scan of ${String(r.path)} has no hash: scan with --hash sha256`);
    out.set(r.path as string, view(r as unknown as View));
  }
  return sortedMap(out);
}

/** A tree on disk (snapshot of ./sync) as views, with sha256: hashes. */
export function treeView(root: string): Map<string, View> {
  const out = new Map<string, View>();
  for (const [p, o] of snapshot(root)) {
    out.set(p, view({ type: o.type, ...(o.size !== undefined ? { size: o.size } : {}), ...(o.hash !== undefined ? { hash: `sha256:${o.hash}` } : {}), ...(o.target !== undefined ? { target: o.target } : {}) }));
  }
  return sortedMap(out);
}

/** The name a part of a split file has on a medium. */
export function partName(p: string, offset: number): string {
  return `${p}.cairn-part-${String(offset).padStart(15, '0')}`;
}

/**
 * The union of the extracted media as the catalog directs it: every path
 * read from the volume the catalog names (a split file joined from its
 * parts, each from its own volume). `volumeDir(n)` is where volume n is
 * extracted (or laid out).
 */
export function mediaView(state: Map<string, Archived>, volumeDir: (n: number) => string): Map<string, View> {
  const out = new Map<string, View>();
  for (const [p, a] of state) {
    if (a.incomplete) continue;
    const abs = (v: number, rel = p) => path.join(volumeDir(v), rel);
    const st = fs.lstatSync(abs(a.volume), { throwIfNoEntry: false });
    if (a.type === 'dir') {
      assert.ok(st?.isDirectory(), `${p}: the catalog names volume ${a.volume}, which has no directory there`);
      out.set(p, { type: 'dir' });
    } else if (a.type === 'symlink') {
      assert.ok(st?.isSymbolicLink(), `${p}: the catalog names volume ${a.volume}, which has no symlink there`);
      out.set(p, { type: 'symlink', target: fs.readlinkSync(abs(a.volume)) });
    } else if (a.type === 'file') {
      let data: Buffer;
      if (a.parts !== undefined) {
        const chunks: Buffer[] = [];
        let at = 0;
        for (const x of a.parts) {
          if (x.offset + x.size <= at) continue;
          const part = fs.readFileSync(abs(x.volume, partName(p, x.offset)));
          assert.equal(part.length, x.size, `${p}: part at ${x.offset} on volume ${x.volume}: size`);
          assert.equal(`sha256:${createHash('sha256').update(part).digest('hex')}`, x.hash, `${p}: part at ${x.offset} on volume ${x.volume}: hash`);
          chunks.push(part.subarray(at - x.offset));
          at = x.offset + x.size;
        }
        data = Buffer.concat(chunks);
      } else {
        assert.ok(st?.isFile(), `${p}: the catalog names volume ${a.volume}, which has no file there`);
        data = fs.readFileSync(abs(a.volume));
      }
      out.set(p, { type: 'file', size: data.length, hash: `sha256:${createHash('sha256').update(data).digest('hex')}` });
    } else out.set(p, { type: a.type });
  }
  return sortedMap(out);
}

/** Every path under a directory (files, dirs, links), relative, sorted. */
export function listTree(root: string): string[] {
  return [...snapshot(root).keys()].sort();
}

/** Member names of a tar (directories without their trailing slash), in tar order. */
export function tarMembers(tar: string): string[] {
  const r = bash(`tar -tf ${q(tar)}`);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trimEnd().split('\n').map((l) => l.replace(/\/$/, ''));
}

/** Extracts a tar into a fresh directory (GNU tar). */
export function extractTar(tar: string, into: string): void {
  fs.mkdirSync(into, { recursive: true });
  const r = bash(`tar -xf ${q(tar)} -C ${q(into)}`);
  assert.equal(r.code, 0, r.stderr);
}

/** The names in a directory and the sha256 of those that are files ('dir' for directories): to show it did not change. */
export function catalogBytes(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of fs.readdirSync(dir).sort()) {
    const abs = path.join(dir, name);
    out[name] = fs.lstatSync(abs).isFile() ? createHash('sha256').update(fs.readFileSync(abs)).digest('hex') : 'dir';
  }
  return out;
}

/** A fresh directory under one temp dir per test file (tempDir of ./run registers an exit hook per call). */
export function freshDir(parent: string, prefix: string): string {
  return fs.mkdtempSync(path.join(parent, prefix));
}

export type MediumFmt = 'tar' | 'dir';

export interface Planned {
  file: string;
  text: string;
  code: number | null;
  stderr: string;
  header: Record<string, unknown> & { archive: { volumes: { volume: number; label: string; bytes: number; files: number }[]; discards: number[]; compress: boolean } };
  actions: Record<string, unknown>[];
}

/**
 * A source, a catalog and the media of one format in a fresh temp dir;
 * media are written by the real commands: tar volumes by cairn-pack -o
 * media/vol-000N.tar (then extracted to media/N), dir volumes by
 * cairn-apply --dst media/N.
 */
export class ArchiveRig {
  readonly base: string;
  readonly src: string;
  readonly cat: string;
  readonly media: string;
  private k = 0;

  constructor(
    readonly fmt: MediumFmt,
    base: string,
  ) {
    this.base = base;
    this.src = path.join(base, 'src');
    this.cat = path.join(base, 'cat');
    this.media = path.join(base, 'media');
    for (const d of [this.src, this.cat, this.media]) fs.mkdirSync(d, { recursive: true });
  }

  p(rel: string): string {
    return path.join(this.src, rel);
  }

  /** cairn-scan [--hash sha256] SRC into a file: its name. */
  scan(hash: boolean): string {
    const file = path.join(this.base, `scan-${++this.k}.ndjson`);
    const r = bash(`cairn-scan ${hash ? '--hash sha256 ' : ''}${q(this.src)} > ${q(file)}`);
    assert.equal(r.code, 0, `cairn-scan: ${r.stderr}`);
    assert.equal(r.stderr, '');
    return file;
  }

  /** cairn-plan --archive --catalog CAT --format FMT FLAGS SCAN into a file; not checked. */
  planRaw(scan: string, flags: string[]): Planned {
    const file = path.join(this.base, `plan-${++this.k}.ndjson`);
    const r = bash(`cairn-plan --archive --catalog ${q(this.cat)} --format ${this.fmt} ${flags.map(q).join(' ')} ${q(scan)} > ${q(file)}`);
    const text = fs.readFileSync(file, 'utf8');
    let header = {} as Planned['header'];
    let actions: Record<string, unknown>[] = [];
    if (r.code === 0 && text.startsWith('{"cairn":"plan"')) {
      const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      header = lines[0] as Planned['header'];
      assert.equal(lines.at(-1)!.cairn, 'end');
      actions = lines.slice(1, -1);
    }
    return { file, text, code: r.code, stderr: r.stderr, header, actions };
  }

  /** As planRaw, which must succeed with `stderr` (default: nothing) on stderr. */
  plan(scan: string, flags: string[], stderr = ''): Planned {
    const p = this.planRaw(scan, flags);
    assert.equal(p.code, 0, `cairn-plan: ${p.stderr}`);
    assert.equal(p.stderr, stderr);
    return p;
  }

  volumeDir(n: number): string {
    return path.join(this.media, String(n));
  }

  tarFile(n: number): string {
    return path.join(this.media, `vol-${String(n).padStart(4, '0')}.tar`);
  }

  /** Writes the single volume of a plan onto its medium: the command's result. */
  writeRaw(plan: Planned | string, volume: number): { code: number | null; stdout: string; stderr: string } {
    const file = typeof plan === 'string' ? plan : plan.file;
    if (this.fmt === 'tar') {
      const r = bash(`cairn-pack -o ${q(this.tarFile(volume))} ${q(file)}`);
      if (fs.existsSync(this.tarFile(volume))) extractTar(this.tarFile(volume), this.volumeDir(volume));
      return r;
    }
    fs.mkdirSync(this.volumeDir(volume), { recursive: true });
    return bash(`cairn-apply --dst ${q(this.volumeDir(volume))} ${q(file)}`);
  }

  /** writeRaw, which must succeed quietly. */
  write(plan: Planned): void {
    assert.equal(plan.header.archive.volumes.length, 1, 'one volume per plan here');
    const v = plan.header.archive.volumes[0]!.volume;
    const r = this.writeRaw(plan, v);
    assert.equal(r.code, 0, `writing volume ${v}: ${r.stderr}`);
    assert.equal(r.stderr, '');
    if (this.fmt === 'dir') {
      const res = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.equal(res[0]!.cairn, 'results');
      assert.deepEqual(res.at(-1), { cairn: 'end' });
      for (const x of res.slice(1, -1)) assert.equal(x.status, 'done', JSON.stringify(x));
      assert.equal(res.length - 2, plan.actions.length, 'one result per action');
    } else {
      assert.ok(fs.statSync(this.tarFile(v)).size <= plan.header.archive.volumes[0]!.bytes, 'the tar is within the bytes the plan budgeted');
    }
  }

  /** What the medium of volume n holds: tar members in tar order, or the dir's paths sorted. */
  members(n: number): string[] {
    return this.fmt === 'tar' ? tarMembers(this.tarFile(n)) : listTree(this.volumeDir(n));
  }

  /** The archived state the catalog describes. */
  state(): Map<string, Archived> {
    return archivedState(readCatalog(this.cat));
  }
}

/** [op, path] of each action of a plan. */
export function opsOf(p: Planned): string[][] {
  return p.actions.map((a) => [a.op as string, a.path as string]);
}

/**
 * The catalog's view equal to the source's hashed scan (`hashedScan`, or a
 * fresh one), and the media, read where the catalog points, equal to the
 * source tree itself.
 */
export function assertArchived(rig: ArchiveRig, what: string, hashedScan?: string): void {
  const scan = hashedScan ?? rig.scan(true);
  const state = rig.state();
  assert.deepEqual(catalogView(state), scanView(fs.readFileSync(scan, 'utf8')), `${what}: the catalog describes the source`);
  assert.deepEqual(mediaView(state, (n) => rig.volumeDir(n)), treeView(rig.src), `${what}: the media hold the source's bytes where the catalog says`);
}
