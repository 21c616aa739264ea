import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FatalIoError, UsageError } from '../cli/errors';
import { Applier, type Outcome } from '../apply/applier';
import { partName, rawBytes } from '../pack/member';
import { hashRange } from '../hash/file-hash';
import { STREAM_VERSION, type Action, type ResultsHeader } from '../records/types';
import { NdjsonWriter } from '../records/writer';
import { setAttrsFd, tempBeside, IS_ROOT } from '../tree/local/write';
import { eachAction, expandPattern, hasPattern, volumesToWrite, type ArchivePlanInput } from './plan-input';
import { VolumeJob, keyOf, prepareVolumes, sourcePath } from './volume-job';
import { openInput } from '../records/stream-reader';

export interface LayOutOptions {
  dst: string;
  tool: string;
  warn: (what: string, why: string) => void;
  interrupted: () => boolean;
}

/** What a store becomes on a plain directory: the one-way applier's ops. */
function asAction(a: Action): Action {
  const src = a.src!;
  const op = src.type === 'dir' ? 'mkdir' : src.type === 'file' ? 'copy' : src.type === 'symlink' ? 'symlink' : 'special';
  const { volume: _v, ...rest } = a;
  return { ...rest, op };
}

/**
 * cairn-apply --dst DIR on an archive plan: the volume laid out as a plain
 * directory (a USB disk, DVD-RAM), `.cairn/` first, every object written
 * atomically by the one-way applier, directory times last; everything
 * synced before the volume enters the catalog. Results stream on stdout.
 */
export async function layOut(plan: ArchivePlanInput, o: LayOutOptions): Promise<{ attention: boolean }> {
  const pattern = hasPattern(o.dst);
  let attention = false;
  const w = new NdjsonWriter();
  const header: ResultsHeader = {
    cairn: 'results',
    version: STREAM_VERSION,
    src: plan.header.src,
    dst: path.resolve(o.dst),
    dry_run: false,
    plan: plan.header,
    tool: o.tool,
    created: new Date().toISOString(),
  };
  w.write(header);
  volumesToWrite(plan, pattern, '--dst');
  // The catalog first: a plan that is out of date says so, whatever the directory holds.
  const firstVolume = plan.header.archive.volumes[0];
  if (firstVolume !== undefined) new VolumeJob(plan.header, firstVolume.volume, o.warn).checkCatalog();
  for (const v of plan.header.archive.volumes) {
    const dst = path.resolve(pattern ? expandPattern(o.dst, v.volume) : o.dst);
    if (!fs.statSync(dst, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`--dst ${dst}`, 'not a directory');
    // A volume is laid out whole into an empty directory (a new file system's lost+found aside):
    // what is there already (another volume, what an interrupted run left) would be neither stored nor overwritten.
    const there = fs.readdirSync(dst).filter((n) => n !== 'lost+found');
    if (there.length > 0) {
      throw new UsageError(`--dst ${dst}`, `not empty (${there.length} ${there.length === 1 ? 'entry' : 'entries'}, like ${JSON.stringify(there[0])}): lay a volume out into an empty directory`);
    }
  }
  const { jobs } = await prepareVolumes(openInput(plan.input.file), plan.input, plan.name, o.tool, o.warn);
  for (const job of jobs) {
    const v = job.volume;
    const dst = path.resolve(pattern ? expandPattern(o.dst, v) : o.dst);
    try {
      const previous = job.checkCatalog();
      const cairnDir = path.join(dst, '.cairn');
      fs.mkdirSync(cairnDir, { recursive: true, mode: 0o755 });
      for (const f of [{ name: job.name, file: job.descriptorFile }, ...previous]) copyWhole(f.file, path.join(cairnDir, f.name));
      const applier = new Applier({
        src: plan.header.src,
        dst,
        versions: null,
        dryRun: false,
        // The descriptor records the planned hash: what is written must be proved to match it.
        verify: true,
        fsync: true,
        retry: 0,
        owners: plan.header.src_caps.owners && IS_ROOT,
        perms: plan.header.src_caps.perms,
        dstPerms: true,
        dstOwners: IS_ROOT,
      });
      const failed = new Set<string>();
      const dirs: Action[] = [];
      await eachAction(plan, v, async (a) => {
        if (o.interrupted()) throw new FatalIoError(dst, 'interrupted: the volume is incomplete and not in the catalog');
        let r: Outcome;
        if (a.op === 'tombstone') r = { status: 'done' };
        else if (job.left.has(keyOf(a))) r = { status: 'stale', error: job.left.get(keyOf(a))! };
        else if (a.part !== undefined) r = copyPart(plan, a, dst, job.partHashes.get(keyOf(a))!);
        else {
          r = await applier.run(asAction(a));
          if (a.src!.type === 'dir' && r.status === 'done') dirs.push(a);
        }
        if (r.status !== 'done') {
          attention = true;
          if (a.op === 'store') failed.add(keyOf(a));
          o.warn(a.path, `${r.status}: ${r.error ?? ''}`);
        }
        const { bytes: _b, ...rest } = r;
        w.write({ ...a, ...rest });
        if (w.blocked) await w.drain();
      });
      // Directory times last: making their contents changed them.
      for (const d of dirs.reverse()) {
        await applier.run({ op: 'meta', path: d.path, ...(d.path_b64 !== undefined ? { path_b64: d.path_b64 } : {}), set: { mtime: d.src!.mtime } });
      }
      if (spawnSync('sync', ['-f', dst], { stdio: 'ignore' }).status !== 0) spawnSync('sync', { stdio: 'ignore' });
      await job.commit(failed);
    } catch (err) {
      for (const j of jobs) j.abort();
      throw err;
    } finally {
      job.done();
    }
  }
  await w.end();
  return { attention };
}

/** A whole small file (a descriptor) copied atomically. */
function copyWhole(from: string, to: string): void {
  const temp = `${to}.cairn-tmp`;
  fs.copyFileSync(from, temp);
  const fd = fs.openSync(temp, 'r');
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  fs.renameSync(temp, to);
}

/** A part of a split file, as its own file NAME.cairn-part-OFFSET beside where the file would be. */
function copyPart(plan: ArchivePlanInput, a: Action, dst: string, hash: string): Outcome {
  const final = Buffer.concat([Buffer.from(`${dst}/`), partName(rawBytes(a.path, a.path_b64), a.part!.offset)]);
  const temp = tempBeside(final);
  const src = fs.openSync(sourcePath(plan.header.src, a), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  let out: number | undefined;
  try {
    out = fs.openSync(temp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
    let got: string;
    try {
      got = hashRange(src, a.part!.offset, a.part!.size, plan.header.hash ?? 'sha256', out);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESHORT') return { status: 'stale', error: 'shorter than planned (changed while being copied)' };
      throw err;
    }
    if (got !== hash) return { status: 'stale', error: 'changed while being copied' };
    setAttrsFd(out, { mode: '0644', mtime: a.src!.mtime });
    fs.fsyncSync(out);
    fs.renameSync(temp, final);
    return { status: 'done', bytes: a.part!.size };
  } catch (err) {
    return { status: 'failed', error: (err as Error).message };
  } finally {
    if (out !== undefined) fs.closeSync(out);
    fs.rmSync(temp, { force: true });
    fs.closeSync(src);
  }
}
