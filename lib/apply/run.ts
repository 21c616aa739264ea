import * as fs from 'node:fs';
import * as path from 'node:path';
import { algOfHash, requireAlg } from '../hash/digest';
import { FatalIoError, InputError, UsageError, describeSystemError } from '../cli/errors';
import { Progress } from '../cli/progress';
import { LineReader } from '../records/line-reader';
import { PLAN, copiedBytes } from '../records/plan';
import { MORE, StreamReader, inputName } from '../records/stream-reader';
import { NdjsonWriter } from '../records/writer';
import { readAgain, teeInput, type Rereadable } from '../records/spool';
import { STREAM_VERSION, type Action, type Caps, type HashAlg, type PlanHeader, type ResultsHeader } from '../records/types';
import type { openState } from './state';
import type { ArchivePlanInput } from '../archive/plan-input';
import { FreeNames } from './free-names';
import { Applier, FatalApplyError, type ActionRunner, type Outcome } from './applier';
import type { Bucket, S3Options } from '../tree/s3/bucket';
import { isS3 } from '../tree/s3/location';

/** Opens an s3:// root and checks it can be listed: a missing bucket or no access ends the run before anything is done. */
async function openBucket(spec: string, o: S3Options): Promise<Bucket> {
  const { Bucket, asFatal } = await import('../tree/s3/bucket');
  const { parseS3, markerOf } = await import('../tree/s3/location');
  const b = Bucket.open(parseS3(spec), o);
  try {
    await b.list(markerOf(b.loc, '.'), '/', undefined, 1);
  } catch (err) {
    b.close();
    throw asFatal(err);
  }
  return b;
}

/** Large copies in flight at once: libuv's thread pool has four threads. */
const INFLIGHT = 4;

export interface RunApplyOptions {
  input: string;
  /** Bisync: the state file to bring up to date (written at checkpoints and at the end). */
  state?: string;
  /** Milliseconds between state checkpoints. */
  checkpointMs: number;
  src?: string;
  dst?: string;
  dryRun: boolean;
  verify: boolean;
  fsync: boolean;
  retry: number;
  progress: boolean;
  /** For s3:// sources and destinations. */
  s3: S3Options;
  tool: string;
  interrupted: () => boolean;
  warn: (what: string, why: string) => void;
}

interface Checked {
  header: PlanHeader;
  input: Rereadable;
  actions: number;
  bytes: number;
  /** The algorithms of the actions' source hashes. */
  algs: Set<HashAlg>;
}

/**
 * Reads the whole plan once, validating every record, before anything is
 * done: a truncated or wrongly edited plan changes nothing. It is copied
 * as it is read (teeInput), and that copy is what is carried out.
 */
async function checkPlan(source: string): Promise<Checked> {
  // Checked as it arrives (while diff and plan upstream are still at work), kept to be read again.
  const tee = teeInput(source, 'apply');
  const input = tee.input;
  try {
    const reader = await StreamReader.fromLines(new LineReader(tee.source, inputName(source)), PLAN);
    let actions = 0;
    let bytes = 0;
    // The algorithms of the sources' hashes: not always the header's (cairn-diff --checksum hashes a side in the other's).
    const algs = new Set<HashAlg>();
    const bisync = reader.header.mode === 'bisync';
    await reader.each((a) => {
      actions++;
      bytes += copiedBytes(a);
      // A move is a rename (or a server copy): its source's hash is never computed.
      if (a.src?.hash !== undefined && a.op !== 'move') algs.add(algOfHash(a.src.hash));
      const sided = a.op !== 'agree' && a.op !== 'conflict';
      const at = reader.line;
      if (bisync && sided && a.to === undefined) throw new InputError(reader.file, at, 'to', `missing: a bisync ${a.op} names the side it changes (a or b)`);
      if (!bisync && (a.to !== undefined || !sided)) throw new InputError(reader.file, at, a.to !== undefined ? 'to' : 'op', `${a.to !== undefined ? 'to' : a.op} belongs to bisync plans only`);
    });
    return { header: reader.header, input, actions, bytes, algs };
  } catch (err) {
    input.done();
    throw err;
  }
}

function rootDir(p: string, what: string): string {
  const abs = path.resolve(p);
  let st: fs.Stats;
  try {
    st = fs.statSync(abs);
  } catch (err) {
    throw new FatalIoError(abs, `${what}: ${describeSystemError(err)}`);
  }
  if (!st.isDirectory()) throw new FatalIoError(abs, `${what}: ENOTDIR: not a directory`);
  return abs;
}

/** cairn-apply as a function: returns whether anything was stale or failed. */
export async function runApply(o: RunApplyOptions): Promise<{ attention: boolean }> {
  const checked = await checkPlan(o.input);
  try {
    const h = checked.header;
    if (h.mode === 'archive') {
      if (o.dst === undefined) throw new UsageError('', 'an archive plan is laid out into a directory: give --dst DIR (the plan\'s destination is its catalog)');
      if (o.dryRun || o.state !== undefined || o.src !== undefined) throw new UsageError(o.dryRun ? '--dry-run' : o.state !== undefined ? '--state' : '--src', 'not with an archive plan');
      const { layOut } = await import('../archive/lay-out');
      return await layOut({ header: h as ArchivePlanInput['header'], input: checked.input, name: inputName(o.input) }, { dst: o.dst, tool: o.tool, warn: o.warn, interrupted: o.interrupted });
    }
    const bisync = h.mode === 'bisync';
    const dstSpec = o.dst ?? h.dst;
    const srcSpec = o.src ?? h.src;
    if (bisync && (isS3(dstSpec) || isS3(srcSpec))) throw new UsageError(isS3(dstSpec) ? dstSpec : srcSpec, 'a two-way sync needs two local trees');
    const dst = isS3(dstSpec) ? dstSpec : rootDir(dstSpec, bisync ? 'side b' : 'destination');
    const src = isS3(srcSpec) ? srcSpec : o.src !== undefined || bisync ? rootDir(srcSpec, bisync ? 'side a' : 'source') : h.src;
    const buckets: Bucket[] = [];
    const bucketOf = async (spec: string) => {
      const b = await openBucket(spec, o.s3);
      buckets.push(b);
      return b;
    };
    const dstBucket = isS3(dst) ? await bucketOf(dst) : undefined;
    const srcBucket = isS3(src) ? (isS3(dst) && src === dst ? dstBucket : await bucketOf(src)) : undefined;
    if (o.state !== undefined && !bisync) throw new UsageError('--state', `keeps the state of a two-way sync; this plan is --${h.mode}`);
    // Hashes this machine cannot compute are needed to verify copies, to keep a state, and to check downloads: refused before the first action.
    if ((o.verify || o.state !== undefined || srcBucket !== undefined || dstBucket !== undefined) && !o.dryRun) {
      requireAlg(h.hash, inputName(o.input));
      for (const alg of checked.algs) requireAlg(alg, inputName(o.input));
    }
    const reader = await readAgain(checked.input, inputName(o.input), PLAN);
    const writer = new NdjsonWriter();
    const header: ResultsHeader = {
      cairn: 'results',
      version: STREAM_VERSION,
      src,
      dst,
      dry_run: o.dryRun,
      plan: h,
      tool: o.tool,
      created: new Date().toISOString(),
    };
    const applierOptions = (from: string, to: string, fromCaps: Caps, toCaps: Caps) => ({
        src: from,
        dst: to,
        versions: h.versions,
        dryRun: o.dryRun,
        verify: o.verify,
        fsync: o.fsync,
        retry: o.retry,
        owners: fromCaps.owners && toCaps.owners,
        perms: fromCaps.perms && toCaps.perms,
        dstPerms: toCaps.perms,
        dstOwners: toCaps.owners,
        batch: true,
      });
    const applierTo = (from: string, to: string, fromCaps: Caps, toCaps: Caps) => new Applier(applierOptions(from, to, fromCaps, toCaps));
    let toB: ActionRunner;
    if (dstBucket !== undefined) {
      const { S3Applier } = await import('./s3-applier');
      toB = new S3Applier({
        dst: dstBucket,
        src: srcBucket ?? src,
        versions: h.versions,
        dryRun: o.dryRun,
        verify: o.verify,
        perms: h.src_caps.perms,
        owners: h.src_caps.owners,
        interrupted: o.interrupted,
      });
    } else if (srcBucket !== undefined) {
      const { downloadInto } = await import('../tree/s3/download');
      const { keyOf } = await import('../tree/s3/location');
      toB = new Applier({ ...applierOptions(src, dst, h.src_caps, h.dst_caps), fetch: (a, tmp) => downloadInto(srcBucket, keyOf(srcBucket.loc, a.path), a.src!, tmp) });
    } else toB = applierTo(src, dst, h.src_caps, h.dst_caps);
    // Bisync: actions on side a read from side b.
    const toA: ActionRunner = bisync ? applierTo(dst, src, h.dst_caps, h.src_caps) : toB;
    const applierOf = (a: Action) => (a.to === 'a' ? toA : toB);
    const names = new FreeNames([src, dst]);
    // Loaded when used (two-way sync): start-up time counts in every pipeline.
    const state = o.state !== undefined && !o.dryRun ? (require('./state') as { openState: typeof openState }).openState(o.state, h, src, dst, o) : undefined;
    writer.write(header);
    const progress = o.progress ? new Progress(o.tool.split(' ')[0]!) : undefined;
    progress?.setTotal(checked.actions, checked.bytes);
    let attention = false;
    const record = (a: Action, r: Outcome) => {
      if (r.status === 'stale' || r.status === 'failed' || r.status === 'conflict') {
        attention = true;
        o.warn(a.path, `${r.status}: ${r.error ?? ''}`);
      }
      if (state !== undefined && r.status === 'done' && a.state !== undefined) state.agree(a);
      writer.writeLine(resultLine(a, r));
      progress?.add(1, r.bytes ?? 0);
    };
    // Large copies run a few at a time (the kernel copies, in libuv's threads); anything else
    // waits until they are done, so order holds where it matters, and results keep plan order.
    const inflight: Array<{ a: Action; p: Promise<Outcome>; done?: Outcome }> = [];
    /** Carries out the appliers' queued copies: the actions in flight all settle. */
    const flushQueues = () => {
      toA.flush?.();
      if (toB !== toA) toB.flush?.();
    };
    const settle = async (all: boolean) => {
      // What is queued is carried out now, unless the action waited for is done already.
      if (all || inflight[0]?.done === undefined) {
        flushQueues();
      }
      while (inflight.length > 0) {
        // Out of the list once done: one that fails stays there, for the catch below to stop at.
        const { a, p } = inflight[0]!;
        const r = await p;
        inflight.shift();
        record(a, r);
        if (!all) return;
      }
    };
    /** Records the actions in flight that are done, from the oldest on, without waiting. */
    const recordDone = () => {
      while (inflight[0]?.done !== undefined) {
        const { a, done } = inflight.shift()!;
        record(a, done!);
      }
    };
    let steps = 0;
    let prev: Action | undefined;
    let checkpoint = Date.now() + o.checkpointMs;
    try {
      for (;;) {
        const next: Action | undefined | typeof MORE = reader.take();
        if (next === MORE) {
          await reader.more();
          continue;
        }
        if (next === undefined) break;
        const a = bisync ? names.resolve(next) : next;
        if (++steps >= 64 || writer.blocked) {
          steps = 0;
          if (writer.blocked) await writer.drain();
          // Between actions only: nothing is left half done.
          await new Promise<void>((r) => setImmediate(r));
          if (state !== undefined && Date.now() >= checkpoint) {
            await settle(true);
            if (state.store.changed) state.store.writeSync();
            checkpoint = Date.now() + o.checkpointMs;
          }
        }
        if (o.interrupted()) break;
        const applier = applierOf(a);
        const afterAll = applier.afterAll?.(a, prev) === true;
        prev = a;
        if (afterAll || applier.concurrent(a)) {
          recordDone();
          while (inflight.length >= (applier.inflight ?? INFLIGHT) || (inflight.length > 0 && applier.saturated?.(a) === true)) await settle(false);
          // After every action before it (none rejected: a fatal error stops everything after it).
          const p = afterAll && inflight.length > 0 ? Promise.all(inflight.map((x) => x.p)).then(() => applier.run(a)) : applier.run(a);
          const entry: (typeof inflight)[number] = { a, p };
          // A failure is awaited in turn by settle(), which throws it.
          p.then((r) => (entry.done = r), () => {});
          inflight.push(entry);
          continue;
        }
        await settle(true);
        record(a, await applier.run(a));
      }
      await settle(true);
    } catch (err) {
      // What finished is recorded, in plan order, up to the first that did not. Queued copies are carried out first, or they never settle.
      flushQueues();
      const ends = await Promise.allSettled(inflight.map((x) => x.p));
      for (let i = 0; i < ends.length; i++) {
        const end = ends[i]!;
        if (end.status !== 'fulfilled') break;
        record(inflight[i]!.a, end.value);
      }
      toA.dropTemp();
      toB.dropTemp();
      // What finished is recorded, even when the run cannot go on.
      if (state !== undefined) state.finish();
      if (err instanceof FatalApplyError) {
        writer.flush();
        throw new FatalIoError(err.path, `${err.why} (stopped${err.removedTemp ? '; temporary file removed' : ''})`);
      }
      throw err;
    }
    toA.dropTemp();
    toB.dropTemp();
    for (const b of buckets) b.close();
    if (state !== undefined) state.finish();
    progress?.done();
    if (o.interrupted()) writer.flush();
    else await writer.end();
    return { attention };
  } finally {
    checked.input.done();
  }
}

/**
 * A result: the action with status, error and kept after its own fields,
 * as JSON.stringify({ ...a, status, error, kept }) writes it, without
 * copying the action (100k spreads cost 0.3 s of a first mirror).
 */
export function resultLine(a: Action, r: Outcome): string {
  const own = a as unknown as Record<string, unknown>;
  // An action carrying one of these keys itself (an edited plan) gets them replaced where they stand.
  if (own.status !== undefined || own.error !== undefined || own.kept !== undefined) {
    const { bytes: _bytes, ...rest } = r;
    return JSON.stringify({ ...a, ...rest });
  }
  let tail = `,"status":${JSON.stringify(r.status)}`;
  if (r.error !== undefined) tail += `,"error":${JSON.stringify(r.error)}`;
  if (r.kept !== undefined) tail += `,"kept":${JSON.stringify(r.kept)}`;
  const line = JSON.stringify(a);
  return line.length > 2 ? `${line.slice(0, -1)}${tail}}` : `{${tail.slice(1)}}`;
}
