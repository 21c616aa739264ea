import { CairnError, InputError } from '../cli/errors';
import { EXIT } from '../cli/exit-codes';
import { human } from '../cli/progress';
import { CHANGES } from '../records/changes';
import { privateTemp, syncWriter } from '../records/spool';
import { MORE, StreamReader } from '../records/stream-reader';
import { STREAM_VERSION, type Action, type PlanHeader, type Side } from '../records/types';
import { NdjsonWriter } from '../records/writer';
import { BisyncPlanner, type BisyncStats } from './bisync';
import { copyOut, type RunPlanOptions } from './run';

/** Below this many files in common with the base, a side whose every file changed is believable. */
const RETIMED_MIN = 10;

export function bisyncStatsLine(s: BisyncStats): string {
  const ops = Object.entries(s.ops).map(([op, n]) => `${op} ${n}`);
  const total = Object.values(s.ops).reduce((x, y) => x + (y ?? 0), 0);
  const skipped = Object.entries(s.skipped).map(([why, n]) => `${n} ${why}`);
  return (
    `${total} actions${ops.length ? ` (${ops.join(', ')})` : ''}; ${human(s.copyBytes)} to copy; deletes: ${s.deletes.a} on a, ${s.deletes.b} on b; ` +
    `${s.conflicts} conflicts${s.resolved ? `, ${s.resolved} settled by --prefer` : ''}` +
    (skipped.length ? `; left alone: ${skipped.join(', ')}` : '')
  );
}

function refuse(what: string, why: string): never {
  throw new CairnError(what, why, EXIT.usage);
}

/**
 * cairn-plan --bisync. The plan is spooled and written only after the
 * safety rails have seen the whole diff: a side that is empty while the
 * state remembers files (a stick not mounted), a side whose every file
 * looks changed (a clock or time zone moved), or more deletions on a side
 * than --max-delete allows.
 */
export async function planBisync(o: RunPlanOptions): Promise<{ refused: boolean }> {
  const reader = await StreamReader.open(o.input, CHANGES);
  const h = reader.header;
  if (h.base === null) throw new InputError(reader.file, 1, 'base', '--bisync needs a three-way diff: cairn-diff --base STATE A B');
  const header: PlanHeader = {
    cairn: 'plan',
    version: STREAM_VERSION,
    mode: 'bisync',
    src: h.a.root,
    dst: h.b.root,
    src_caps: h.a.caps,
    dst_caps: h.b.caps,
    hash: h.base.hash ?? h.a.hash ?? h.b.hash,
    versions: null,
    tool: o.tool,
    created: new Date().toISOString(),
  };
  const spool = privateTemp('plan');
  try {
    const writer = new NdjsonWriter(syncWriter(spool.fd));
    writer.write(header);
    const planner = new BisyncPlanner(
      { settings: h.compare, capsA: h.a.caps, capsB: h.b.caps, ...(o.prefer !== undefined ? { prefer: o.prefer } : {}) },
      (a: Action) => writer.write(a),
    );
    let steps = 0;
    // Entries per side, for a stream whose end record has no counts (made by hand).
    const seen = { a: 0, b: 0 };
    for (;;) {
      const c = reader.take();
      if (c === MORE) {
        await reader.more();
        continue;
      }
      if (c === undefined) break;
      if (c.a !== undefined) seen.a++;
      if (c.b !== undefined) seen.b++;
      planner.feed(c);
      if (++steps >= 1024) {
        steps = 0;
        if (o.interrupted()) return { refused: true };
      }
    }
    planner.finish();
    const s = planner.stats;
    await writer.end({ actions: Object.values(s.ops).reduce((x, y) => x + (y ?? 0), 0), copy_bytes: s.copyBytes, conflicts: s.conflicts });
    if (o.stats) o.warn('', bisyncStatsLine(s));

    const n = (reader.trailer?.counts ?? {}) as Record<string, number | undefined>;
    const roots: Record<Side, string> = { a: h.a.root, b: h.b.root };
    for (const side of ['a', 'b'] as const) {
      if ((n.base ?? 0) > 0 && n[side] === 0) {
        refuse(roots[side], `side ${side} is empty but the state remembers ${n.base} entries: is it mounted? nothing planned (remove the state file to start over)`);
      }
      const common = n[`${side}_common`] ?? 0;
      if (!o.force && common >= RETIMED_MIN && n[`${side}_retimed`] === common) {
        refuse(roots[side], `every one of the ${common} files side ${side} shares with the state has a new time: a clock or time zone change? nothing planned (--force plans it anyway)`);
      }
    }
    if (o.maxDelete !== undefined) {
      for (const side of ['a', 'b'] as const) {
        const entries = n[side] ?? seen[side];
        const limit = 'count' in o.maxDelete ? o.maxDelete.count : Math.floor((entries * o.maxDelete.percent) / 100);
        if (s.deletes[side] > limit) {
          const of = 'percent' in o.maxDelete ? ` (${o.maxDelete.percent}% of ${entries} entries)` : '';
          o.warn('refused', `the plan deletes ${s.deletes[side]} objects on side ${side}, more than --max-delete allows: ${limit}${of}; nothing written (raise --max-delete, or --max-delete=off)`);
          return { refused: true };
        }
      }
    }
    await copyOut(spool.file);
    return { refused: false };
  } finally {
    spool.done();
  }
}
