import * as fs from 'node:fs';
import { InputError, UsageError } from '../cli/errors';
import { human } from '../cli/progress';
import { compileFilter, type Filter } from '../filter/rules';
import { CHANGES } from '../records/changes';
import { LineReader } from '../records/line-reader';
import { privateTemp, readAgain, rereadable, syncWriter, type Rereadable } from '../records/spool';
import { MORE, StreamReader, inputName, openInput } from '../records/stream-reader';
import { MoveFinder } from './moves';
import { NdjsonWriter } from '../records/writer';
import { STREAM_VERSION, VERSIONS_DIR, type Action, type PlanHeader } from '../records/types';
import { Planner, type PlanStats } from './planner';
import type { Prefer } from './bisync';
import { planBisync } from './bisync-run';

export interface RunPlanOptions {
  input: string;
  mode: 'mirror' | 'copy' | 'bisync';
  prefer?: Prefer;
  /** Deletions allowed: a count, a percentage of the destination's entries, or none (undefined: no limit). */
  maxDelete?: { count: number } | { percent: number };
  newerThan?: string;
  lazyMkdir: boolean;
  kill: string[];
  versions: boolean;
  force: boolean;
  moves: boolean;
  stats: boolean;
  tool: string;
  interrupted: () => boolean;
  warn: (what: string, why: string) => void;
}


export function statsLine(s: PlanStats): string {
  const ops = Object.entries(s.ops).map(([op, n]) => `${op} ${n}`);
  const total = Object.values(s.ops).reduce((x, y) => x + (y ?? 0), 0);
  const skipped = Object.entries(s.skipped).map(([why, n]) => `${n} ${why}`);
  return (
    `${total} actions${ops.length ? ` (${ops.join(', ')})` : ''}; ${human(s.copyBytes)} to copy, ${human(s.deleteBytes)} to delete` +
    (skipped.length ? `; left alone: ${skipped.join(', ')}` : '')
  );
}

/**
 * cairn-plan as a function. With a deletion limit the plan is spooled to a
 * temporary file and written out only once the count is known to be within
 * it, so a refused plan never reaches cairn-apply, not even in part.
 */
function killFilter(o: RunPlanOptions): Filter | undefined {
  return o.kill.length > 0 ? compileFilter(o.kill.map((exclude) => ({ exclude }))) : undefined;
}

export async function runPlan(o: RunPlanOptions): Promise<{ refused: boolean; stats?: PlanStats }> {
  if (o.mode === 'bisync') return planBisync(o);
  if (!o.moves) return plan(o, o.input, undefined);
  // Moves pair removals with additions anywhere in the tree: a first pass finds them.
  const input = await rereadable(o.input, 'plan');
  try {
    const first = await StreamReader.fromLines(new LineReader(openInput(input.file), inputName(o.input)), CHANGES);
    const kill = killFilter(o);
    const finder = new MoveFinder((c) => {
      if (kill !== undefined && kill.excludes(c.path, false)) return true;
      return c.change === 'a-only' && o.newerThan !== undefined && c.a!.mtime <= o.newerThan;
    });
    await first.each((c) => finder.see(c));
    return await plan(o, input, finder.pairs());
  } finally {
    input.done();
  }
}

/** Plans from the changes: the input, or its copy already checked by the first pass of --moves. */
async function plan(o: RunPlanOptions, input: string | Rereadable, moves: ReturnType<MoveFinder['pairs']> | undefined): Promise<{ refused: boolean; stats: PlanStats }> {
  const reader = typeof input === 'string' ? await StreamReader.fromLines(new LineReader(openInput(input), inputName(o.input)), CHANGES) : await readAgain(input, inputName(o.input), CHANGES);
  const h = reader.header;
  if ((o.kill.length > 0 || o.force) && !h.all) {
    throw new InputError(reader.file, 1, 'all', `${o.force ? '--force' : '--kill'} needs every path, not only differences: make the changes with cairn-diff --all`);
  }
  const kill = killFilter(o);
  const header: PlanHeader = {
    cairn: 'plan',
    version: STREAM_VERSION,
    mode: o.mode,
    src: h.a.root,
    dst: h.b.root,
    src_caps: h.a.caps,
    dst_caps: h.b.caps,
    hash: h.a.hash,
    versions: o.versions ? VERSIONS_DIR : null,
    tool: o.tool,
    created: new Date().toISOString(),
  };
  const spool = o.maxDelete !== undefined ? privateTemp('plan') : undefined;
  const writer = spool !== undefined ? new NdjsonWriter(syncWriter(spool.fd)) : new NdjsonWriter();
  try {
    writer.write(header);
    const planner = new Planner(
      {
        mode: o.mode as 'mirror' | 'copy',
        settings: h.compare,
        ...(o.newerThan !== undefined ? { newerThan: o.newerThan } : {}),
        lazyMkdir: o.lazyMkdir,
        ...(kill ? { kill: (p: string) => kill.excludes(p, false) } : {}),
        versions: header.versions,
        force: o.force,
        symlinks: h.b.caps.symlinks,
        ...(h.a.root_entry ? { rootA: h.a.root_entry } : {}),
        ...(h.b.root_entry ? { rootB: h.b.root_entry } : {}),
        ...(moves ? { moves } : {}),
      },
      (a: Action) => writer.write(a),
    );
    let bSeen = 0;
    let steps = 0;
    for (;;) {
      const c = reader.take();
      if (c === MORE) {
        if (writer.blocked) await writer.drain();
        await reader.more();
        continue;
      }
      if (c === undefined) break;
      if (c.b !== undefined) bSeen++;
      planner.feed(c);
      if (++steps >= 1024) {
        steps = 0;
        if (writer.blocked) await writer.drain();
        if (o.interrupted()) return { refused: true, stats: planner.stats };
      }
    }
    planner.finish();
    const s = planner.stats;
    await writer.end({ actions: Object.values(s.ops).reduce((x, y) => x + (y ?? 0), 0), copy_bytes: s.copyBytes, deletes: s.deletes });
    if (o.stats) o.warn('', statsLine(s));
    if (o.maxDelete === undefined) return { refused: false, stats: s };

    const trailer = reader.trailer?.counts as Record<string, unknown> | undefined;
    const dstEntries = typeof trailer?.b === 'number' ? trailer.b : bSeen;
    const limit = 'count' in o.maxDelete ? o.maxDelete.count : Math.floor((dstEntries * o.maxDelete.percent) / 100);
    if (s.deletes > limit) {
      const of = 'percent' in o.maxDelete ? ` (${o.maxDelete.percent}% of ${dstEntries} destination entries)` : '';
      o.warn('refused', `the plan deletes ${s.deletes} objects, more than --max-delete allows: ${limit}${of}; nothing written (raise --max-delete, or --max-delete=off)`);
      return { refused: true, stats: s };
    }
    await copyOut(spool!.file);
    return { refused: false, stats: s };
  } finally {
    spool?.done();
  }
}

export async function copyOut(file: string): Promise<void> {
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) {
    if (!process.stdout.write(chunk)) await new Promise((r) => process.stdout.once('drain', r));
  }
}

export function parseMaxDelete(v: string): { count: number } | { percent: number } | undefined {
  if (v === 'off') return undefined;
  const m = /^(\d+)(%?)$/.exec(v);
  if (!m || (m[2] && Number(m[1]) > 100)) throw new UsageError(`--max-delete ${v}`, 'must be a count (100), a percentage (10%), or off');
  return m[2] ? { percent: Number(m[1]) } : { count: Number(m[1]) };
}
