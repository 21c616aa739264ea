import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import { StringDecoder } from 'node:string_decoder';
import { requireAlg } from '../hash/digest';
import { FatalIoError, UsageError, describeSystemError } from '../cli/errors';
import { listCatalog, descriptorName } from '../catalog/names';
import { hashRange } from '../hash/file-hash';
import { rawBytes } from '../pack/member';
import { privateTemp, syncWriter, type PrivateTemp } from '../records/spool';
import { timeParts } from '../records/time';
import { alive } from '../state/lock';
import { fsPathOf } from '../tree/local/fs-path';
import { typeOfMode } from '../tree/local/stat-entry';
import { statOf, type Stat } from '../tree/local/stat';
import { LstatBatch } from '../tree/local/path-stats';
import { inputName } from '../records/stream-reader';
import { teeInput } from '../records/spool';
import { STREAM_VERSION, type Action, type EntryBody, type VolumeHeader } from '../records/types';
import { NdjsonWriter } from '../records/writer';
import { checkArchivePlan, type ArchivePlanInput } from './plan-input';

const TEMP = '.cairn-tmp.';
/** Objects examined per native call, in the reader thread (see LstatBatch). */
const SEE_BATCH = 512;

/** The key of a stored object (a part is keyed by its offset too). */
export function keyOf(a: Action): string {
  return `${a.path_b64 ?? a.path}\0${a.part?.offset ?? ''}`;
}

/** Absolute raw path of an object of the source. */
export function sourcePath(root: string, a: { path: string; path_b64?: string }): Buffer {
  const p = fsPathOf(root, a.path, a.path_b64);
  return typeof p === 'string' ? Buffer.from(p) : p;
}

/** Why the object at `abs` is not the one the plan stores, or undefined. `st`: its lstat, when taken already (or the error of taking it). */
export function unlike(abs: Buffer, src: EntryBody, st: Stat | NodeJS.ErrnoException = lstatOrError(abs)): string | undefined {
  if (st instanceof Error) return describeSystemError(st);
  const type = typeOfMode(st.mode);
  if (type !== src.type) return `now a ${type ?? 'different type'}, not a ${src.type}`;
  if (type === 'file') {
    if (st.size !== (src.size ?? 0)) return `size ${st.size}, planned ${src.size}`;
    const [sec, nsec] = timeParts(src.mtime);
    if (st.mtimeSec !== sec || st.mtimeNsec !== nsec) return 'modified since the scan';
  }
  if (type === 'symlink' && !fs.readlinkSync(abs, { encoding: 'buffer' }).equals(rawBytes(src.target ?? '', src.target_b64))) return 'link target changed';
  return undefined;
}

function lstatOrError(abs: Buffer): Stat | NodeJS.ErrnoException {
  try {
    return statOf(abs, false);
  } catch (err) {
    return err as NodeJS.ErrnoException;
  }
}

/** A descriptor record of a store or tombstone action. */
export function descriptorRecord(a: Action, partHash?: string): Record<string, unknown> {
  const r: Record<string, unknown> = { path: a.path };
  if (a.path_b64 !== undefined) r.path_b64 = a.path_b64;
  if (a.op === 'tombstone') {
    r.tombstone = true;
    return r;
  }
  Object.assign(r, a.src);
  if (a.link !== undefined) r.link = a.link;
  if (a.part !== undefined) r.part = { offset: a.part.offset, size: a.part.size, hash: partHash };
  return r;
}

/**
 * One volume of an archive plan on its way onto a medium, whatever the
 * format: checks the catalog still expects it, checks every object against
 * the plan before a byte is written (what changed is left out and
 * reported), writes its descriptor, and enters it in the catalog only once
 * the medium is produced (commit). A run that dies before commit leaves the
 * catalog as it was; its temporary file is removed by the next run.
 */
export class VolumeJob {
  readonly catalog: string;
  readonly name: string;
  /** Objects left out: key -> why. */
  readonly left = new Map<string, string>();
  /** Hashes of the parts on this volume, by key. */
  readonly partHashes = new Map<string, string>();
  /** The descriptor as it goes on the medium (compressed when the plan says so), in the catalog directory. */
  descriptorFile = '';
  private raw: PrivateTemp | undefined;
  private readonly temp: string;

  constructor(
    readonly header: ArchivePlanInput['header'],
    readonly volume: number,
    private readonly warn: (what: string, why: string) => void,
  ) {
    this.catalog = header.archive.catalog;
    this.name = descriptorName(volume, header.archive.compress);
    this.temp = path.join(this.catalog, `${TEMP}${process.pid}.${this.name}`);
  }

  get first(): boolean {
    return this.header.archive.volumes[0]!.volume === this.volume;
  }

  /** The catalog must be as the plan found it: the volumes before this one there, this one not. */
  checkCatalog(): { volume: number; file: string; name: string }[] {
    cleanTemps(this.catalog);
    const files = listCatalog(this.catalog);
    const last = files.length > 0 ? files[files.length - 1]!.volume : 0;
    if (files.some((f) => f.volume >= this.volume)) {
      throw new UsageError(this.header.archive.catalog, `volume ${this.volume} is already in the catalog: the plan is out of date (plan again)`);
    }
    if (last !== this.volume - 1) {
      throw new UsageError(this.header.archive.catalog, `the catalog ends at volume ${last}, and this plan's volume is ${this.volume}: write the volumes of a plan in order (plan again)`);
    }
    return files.map((f) => ({ volume: f.volume, file: f.file, name: path.basename(f.file) }));
  }

  private out: NdjsonWriter | undefined;
  private readonly leftPaths = new Set<string>();

  /** Starts the descriptor: its header. */
  begin(tool: string): void {
    const h = this.header;
    const header: VolumeHeader = {
      cairn: 'volume',
      version: STREAM_VERSION,
      volume: this.volume,
      created: new Date().toISOString(),
      medium_size: h.archive.medium_size,
      format: h.archive.format,
      label: h.archive.volumes.find((v) => v.volume === this.volume)!.label,
      root: h.src,
      hash: h.hash ?? 'sha256',
      caps: h.src_caps,
      discards: this.first ? h.archive.discards : [],
      tool,
    };
    this.raw = privateTemp('descriptor');
    this.out = new NdjsonWriter(syncWriter(this.raw.fd));
    this.out.write(header);
  }

  /** Actions seen and not yet checked: their objects are examined a batch at a time (one native call). */
  private readonly seen: Action[] = [];
  /** The batch whose objects the reader thread is examining, while the plan is read on. */
  private examining: { actions: Action[]; paths: Buffer[]; stats: LstatBatch } | undefined;

  /**
   * Checks one object against the plan (what changed is left out and
   * reported) and records what passes; a part is hashed here, for the
   * descriptor that leads the medium. Done a batch at a time, in order:
   * the objects of a batch are examined in the reader thread while the
   * next batch is read, and its records written when that one is full.
   */
  see(a: Action): void {
    this.seen.push(a);
    if (this.seen.length >= SEE_BATCH) this.examineSeen();
  }

  /** Hands the objects seen to the reader thread, then records the batch before them. */
  private examineSeen(): void {
    const actions = this.seen.splice(0);
    const paths = actions.filter((a) => a.op === 'store').map((a) => sourcePath(this.header.src, a));
    const stats = new LstatBatch();
    stats.start(paths);
    this.recordExamined();
    this.examining = { actions, paths, stats };
  }

  /** Records the batch examined (what passes goes in the descriptor), in plan order. */
  private recordExamined(): void {
    const batch = this.examining;
    if (batch === undefined) return;
    this.examining = undefined;
    const stats = batch.stats.finish();
    let k = 0;
    for (const a of batch.actions) {
      if (a.op !== 'store') {
        this.out!.write(descriptorRecord(a));
        continue;
      }
      const abs = batch.paths[k]!;
      const st = stats[k++]!;
      const why = a.link !== undefined && this.leftPaths.has(a.link) ? 'its hard link was left out' : unlike(abs, a.src!, st);
      if (why !== undefined) {
        this.left.set(keyOf(a), why);
        this.leftPaths.add(a.path);
        this.warn(a.path, `${why}: left out of volume ${this.volume} (the next volume stores it)`);
        continue;
      }
      let partHash: string | undefined;
      if (a.part !== undefined) {
        const fd = fs.openSync(abs, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
        try {
          partHash = hashRange(fd, a.part.offset, a.part.size, this.header.hash ?? 'sha256');
        } finally {
          fs.closeSync(fd);
        }
        this.partHashes.set(keyOf(a), partHash);
      }
      this.out!.write(descriptorRecord(a, partHash));
    }
  }

  /** Ends the descriptor and makes the bytes that go on the medium. */
  async end(): Promise<void> {
    this.examineSeen();
    this.recordExamined();
    await this.out!.end();
    this.descriptorFile = this.temp;
    await this.finalBytes(this.raw!.file, undefined);
  }

  /** The descriptor as written to the catalog temp file: compressed or not, less the `drop` keys. */
  private async finalBytes(from: string, drop: Set<string> | undefined): Promise<void> {
    const stages: unknown[] = [fs.createReadStream(from, { highWaterMark: 1 << 20 })];
    if (drop !== undefined) stages.push(dropLines(drop));
    if (this.header.archive.compress) stages.push(zlib.createGzip());
    stages.push(fs.createWriteStream(this.temp, { flags: 'w', mode: 0o644 }));
    await (pipeline as (...s: unknown[]) => Promise<void>)(...stages);
  }

  /**
   * Enters the volume in the catalog: the descriptor under its final name,
   * never over an existing one (link, not rename), synced. Objects that
   * failed while being written (`failed` keys) are taken out of the
   * catalog's copy, so the next volume stores them again.
   */
  async commit(failed: Set<string>): Promise<void> {
    if (failed.size > 0) await this.finalBytes(this.raw!.file, failed);
    const final = path.join(this.catalog, this.name);
    try {
      const fd = fs.openSync(this.temp, 'r');
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      fs.linkSync(this.temp, final);
    } catch (err) {
      throw new FatalIoError(final, `${describeSystemError(err)} (the medium is written, but its volume is not in the catalog)`);
    } finally {
      fs.rmSync(this.temp, { force: true });
    }
    const dir = fs.openSync(this.catalog, 'r');
    try {
      fs.fsyncSync(dir);
    } finally {
      fs.closeSync(dir);
    }
  }

  /** Drops what an unfinished volume left (its temporary descriptor). */
  abort(): void {
    // A batch still in the reader thread is waited for: the thread is the process's, and serves the next job.
    this.examining?.stats.finish();
    this.examining = undefined;
    fs.rmSync(this.temp, { force: true });
    this.raw?.done();
  }

  done(): void {
    this.raw?.done();
  }
}

/** The process that made a temporary file has exited (never true of this one). */
export function processGone(pid: number): boolean {
  return pid !== process.pid && !alive(pid);
}

/** Temporary descriptors of runs that are gone. */
function cleanTemps(dir: string): void {
  removeDeadTemps(dir, (rest) => rest.startsWith('vol-'));
}

/**
 * Removes `.cairn-tmp.PID.REST` files in `dir` whose process is gone and
 * whose REST `mine` claims: what a killed run left (the catalog's
 * descriptors, a tar under -o), never a running one's.
 */
export function removeDeadTemps(dir: string, mine: (rest: string) => boolean): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return; // whoever uses the directory next reports it
  }
  for (const n of names) {
    const m = /^\.cairn-tmp\.(\d+)\.(.*)$/s.exec(n);
    if (m && mine(m[2]!) && processGone(Number(m[1]))) fs.rmSync(path.join(dir, n), { force: true });
  }
}

/** A transform that drops descriptor lines whose record key is in `drop`. */
function dropLines(drop: Set<string>) {
  let rest = '';
  const decoder = new StringDecoder('utf8');
  return async function* (source: AsyncIterable<Buffer>) {
    for await (const chunk of source) {
      const text = rest + decoder.write(chunk);
      const lines = text.split('\n');
      rest = lines.pop()!;
      const kept = lines.filter((l) => {
        const r = JSON.parse(l) as { path?: string; path_b64?: string; part?: { offset: number } };
        return r.path === undefined || !drop.has(`${r.path_b64 ?? r.path}\0${r.part?.offset ?? ''}`);
      });
      if (kept.length > 0) yield kept.join('\n') + '\n';
    }
    if (rest !== '') yield rest;
  };
}

/**
 * Reads and checks a whole archive plan, and in the same pass checks every
 * object of every volume against the disk and writes the volumes'
 * descriptors: one reading of the plan before the media are written.
 * The catalog must expect the plan's first volume.
 */
export async function prepareVolumes(
  source: AsyncIterable<Uint8Array>,
  input: import('../records/spool').Rereadable,
  name: string,
  tool: string,
  warn: (what: string, why: string) => void,
): Promise<{ plan: ArchivePlanInput; jobs: VolumeJob[] }> {
  const jobs: VolumeJob[] = [];
  let current: VolumeJob | undefined;
  try {
    const plan = await checkArchivePlan(source, input, name, (a, h) => {
      if (current === undefined || current.volume !== a.volume) {
        current = jobs.find((j) => j.volume === a.volume);
        if (current === undefined) {
          // Before the first descriptor is begun: every file is checked against a hash of this algorithm.
          if (jobs.length === 0) requireAlg(h.hash, name);
          current = new VolumeJob(h, a.volume!, warn);
          if (jobs.length === 0) current.checkCatalog();
          current.begin(tool);
          jobs.push(current);
        }
      }
      current.see(a);
    });
    // Volumes of the header with no action (cannot come from cairn-plan, but a plan may be edited).
    for (const v of plan.header.archive.volumes) {
      if (jobs.some((j) => j.volume === v.volume)) continue;
      const j = new VolumeJob(plan.header, v.volume, warn);
      if (jobs.length === 0) j.checkCatalog();
      j.begin(tool);
      jobs.push(j);
    }
    jobs.sort((x, y) => x.volume - y.volume);
    for (const j of jobs) await j.end();
    return { plan, jobs };
  } catch (err) {
    for (const j of jobs) j.abort();
    throw err;
  }
}

/** prepareVolumes on a file or stdin. */
export async function prepareInput(source: string, tool: string, warn: (what: string, why: string) => void): Promise<{ plan: ArchivePlanInput; jobs: VolumeJob[] }> {
  const tee = teeInput(source, 'volume');
  try {
    return await prepareVolumes(tee.source, tee.input, inputName(source), tool, warn);
  } catch (err) {
    tee.input.done();
    throw err;
  }
}
