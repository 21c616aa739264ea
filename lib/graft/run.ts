import * as fs from 'node:fs';
import * as path from 'node:path';
import { FatalIoError, InputError, UsageError, describeSystemError } from '../cli/errors';
import { eachAction, volumesToWrite, type ArchivePlanInput } from '../archive/plan-input';
import { keyOf, prepareInput, sourcePath } from '../archive/volume-job';
import { hashRange } from '../hash/file-hash';
import { createHash } from 'node:crypto';
import { partName, rawBytes } from '../pack/member';
import { isInside } from '../records/order';
import { writeAll } from '../records/spool';
import type { Action } from '../records/types';
import { graftLine, type GraftTool } from './escape';

export interface GraftOptions {
  input: string;
  tool: GraftTool;
  /** Where parts of split files are cut out to; an empty directory for empty directories lives there too. */
  spool?: string;
  toolName: string;
  warn: (what: string, why: string) => void;
}

/** genisoimage cannot store a file of 4 GiB or more (no multi-extent files). */
const GENISOIMAGE_MAX_FILE = 4294967294;

/**
 * cairn-graft: the graft-points list of one volume. Every object is checked
 * against the plan first (what changed is left out and reported), parts of
 * split files are cut out into the spool, the descriptor enters the catalog,
 * and then the list is printed: the `.cairn/` catalog first, then every file,
 * symlink and empty directory of the volume.
 */
export async function runGraft(o: GraftOptions): Promise<{ attention: boolean }> {
  const { plan, jobs } = await prepareInput(o.input, o.toolName, o.warn);
  try {
    const [volume] = volumesToWrite(plan, false, 'PLAN', 'cairn-graft lists one volume a run (plan with --volumes 1, the default)');
    if (volume === undefined) {
      o.warn('', 'the plan holds no volume: nothing to graft');
      return { attention: false };
    }
    if (plan.header.archive.format !== 'iso') {
      throw new InputError(plan.name, 1, 'archive.format', `the plan was budgeted for ${plan.header.archive.format}, not iso: plan with --format iso`);
    }
    const job = jobs[0]!;
    try {
      const previous = job.checkCatalog();
      const spool = o.spool !== undefined ? path.resolve(o.spool) : undefined;
      // First every line, checked, with no side effect: a name the tool cannot take stops here.
      const lines: Buffer[] = [];
      const list = (dest: Buffer, src: Buffer, what: string, target?: Buffer): void => {
        lines.push(graftLine(dest, src, o.tool, what, target));
      };
      const descriptor = path.join(job.catalog, job.name);
      list(Buffer.from(`.cairn/${job.name}`), Buffer.from(descriptor), 'descriptor');
      for (const p of previous) list(Buffer.from(`.cairn/${p.name}`), Buffer.from(p.file), 'descriptor');
      const empty = path.join(spool ?? job.catalog, '.cairn-empty');
      let needEmpty = false;
      const cuts: { a: Action; file: string }[] = [];
      // Directories are implied by what is grafted under them; one with nothing grafted
      // under it (empty, or holding only fifos and devices) is grafted from an empty directory.
      const open: { a: Action; implied: boolean }[] = [];
      const close = (until: Action | undefined): void => {
        while (open.length > 0 && !(until !== undefined && isInside(until.path, open[open.length - 1]!.a.path))) {
          const d = open.pop()!;
          if (d.implied) continue;
          list(rawBytes(d.a.path, d.a.path_b64), Buffer.from(empty), d.a.path);
          needEmpty = true;
          for (const up of open) up.implied = true;
        }
      };
      const one = (a: Action): undefined => {
        if (a.op !== 'store' || job.left.has(keyOf(a))) return undefined;
        close(a);
        const src = a.src!;
        const dest = rawBytes(a.path, a.path_b64);
        if (src.type === 'dir') {
          open.push({ a, implied: false });
          return undefined;
        }
        if (src.type !== 'file' && src.type !== 'symlink') return undefined; // devices and fifos: the descriptor restores them
        for (const up of open) up.implied = true;
        if (a.part === undefined) {
          if (o.tool === 'genisoimage' && (src.size ?? 0) > GENISOIMAGE_MAX_FILE) {
            throw new UsageError(a.path, 'genisoimage cannot store a file of 4294967295 bytes (4 GiB - 1) or more: use --format xorriso (with -iso-level 3)');
          }
          list(dest, sourcePath(plan.header.src, a), a.path, src.type === 'symlink' ? rawBytes(src.target ?? '', src.target_b64) : undefined);
          return undefined;
        }
        if (spool === undefined) throw new UsageError(a.path, `volume ${volume} holds a part of this file: give --spool DIR to cut it out to`);
        if (o.tool === 'genisoimage' && a.part.size > GENISOIMAGE_MAX_FILE) {
          throw new UsageError(a.path, 'genisoimage cannot store a part of 4294967295 bytes (4 GiB - 1) or more: use --format xorriso (with -iso-level 3)');
        }
        const file = partFile(spool, volume, a);
        list(partName(dest, a.part.offset), Buffer.from(file), a.path);
        cuts.push({ a, file });
        return undefined;
      };
      await eachAction(plan, volume, one);
      close(undefined);
      if (needEmpty) {
        fs.mkdirSync(empty, { recursive: true, mode: 0o755 });
        if (fs.readdirSync(empty).length > 0) throw new UsageError(empty, 'must be empty: cairn-graft grafts empty directories from it');
      }
      for (const c of cuts) cutPart(plan, c.a, job.partHashes.get(keyOf(c.a))!, c.file);
      await job.commit(new Set());
      for (const l of lines) writeAll(1, l);
      return { attention: job.left.size > 0 };
    } catch (err) {
      job.abort();
      throw err;
    } finally {
      job.done();
    }
  } finally {
    for (const j of jobs) j.abort();
    plan.input.done();
  }
}

/** Where a part is cut out to: SPOOL/vol-NNNN/part-OFFSET-<sha256 of the path, 16 hex>. */
function partFile(spool: string, volume: number, a: Action): string {
  const id = createHash('sha256').update(a.path_b64 ?? a.path).digest('hex').slice(0, 16);
  return path.join(spool, `vol-${String(volume).padStart(4, '0')}`, `part-${String(a.part!.offset).padStart(15, '0')}-${id}`);
}

/**
 * Copies a part of a file into the spool, checked against the hash the
 * descriptor records, written under a temporary name and synced before it
 * is renamed into place.
 */
function cutPart(plan: ArchivePlanInput, a: Action, hash: string, final: string): void {
  fs.mkdirSync(path.dirname(final), { recursive: true });
  const temp = `${final}.cairn-tmp`;
  const src = fs.openSync(sourcePath(plan.header.src, a), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  const out = fs.openSync(temp, 'w', 0o644);
  try {
    let got: string;
    try {
      got = hashRange(src, a.part!.offset, a.part!.size, plan.header.hash ?? 'sha256', out);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESHORT') throw new FatalIoError(a.path, 'shorter than planned (changed while being cut)');
      throw err;
    }
    if (got !== hash) throw new FatalIoError(a.path, 'changed while its part was being cut');
    fs.fsyncSync(out);
    fs.renameSync(temp, final);
  } catch (err) {
    fs.rmSync(temp, { force: true });
    throw err instanceof FatalIoError ? err : new FatalIoError(final, describeSystemError(err));
  } finally {
    fs.closeSync(out);
    fs.closeSync(src);
  }
}
