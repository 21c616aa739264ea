import * as os from 'node:os';
import * as path from 'node:path';
import type { Worker } from 'node:worker_threads';
import { compileFilter, type Filter } from '../../filter/rules';
import { compareKeyed } from '../../records/order';
import { asFsPath, dirUnit, type DirJob, type UnitChunk, type UnitOptions } from './dir-unit';
import { listingAhead, type Listing } from './list-dir';
import { dirStat, type AheadHandle } from './native';
import { MinHeap } from './min-heap';
import type { FromWorker, ToWorker } from './walk-worker';

/** A chunk as handed to the coordinator: each subdirectory already queued as a unit. */
export interface ReadyChunk extends UnitChunk {
  kidUnits: Unit[];
}

/** A directory job as the coordinator tracks it. */
export interface Unit {
  readonly job: DirJob;
  readonly id: number;
  state: 'queued' | 'inline' | 'worker' | 'done';
  readonly chunks: ReadyChunk[];
  gen?: Generator<UnitChunk>;
  worker?: Slot;
  wake?: () => void;
  /** Handed to the compiled lister's helper thread to list ahead of need. */
  requested?: boolean;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  /** Units sent to this worker and not finished. */
  units: number;
}

/** Characters of entry lines the coordinator may hold ahead of the output before it stops starting units (deep trees have long lines). */
const BUFFER_LIMIT = 8 << 20;
/** Units a worker holds at once, so it never idles waiting for the coordinator's next message. */
const DEPTH = 4;
/** Young generation of a worker (MB): V8's default grows to 32+ MB per isolate. */
const YOUNG_MB = 6;
/** Inline work (ms) after which worker threads are worth their start-up (~40 ms each). */
const SPAWN_AFTER_MS = 25;
/** Directories asked of the helper thread and not yet taken (it lists the nearest-needed first, and holds at most 64k names listed). */
const AHEAD_DIRS = 256;
/** Directories bigger than this (st_size) are listed when needed, a batch at a time, not held whole. */
const AHEAD_MAX_SIZE = 256 << 10;

/**
 * Runs directory units in canonical order of need: a min-heap by path, so
 * the unit the output waits for is always the next to start. Units run in
 * worker threads once the walk proves big enough to pay for them; until then,
 * and whenever the unit the output needs has not started, they run inline.
 * Every received chunk's subdirectories are queued at once (prefetch), up to
 * BUFFER_LIMIT characters of entry lines held ahead.
 */
export class Scheduler {
  private readonly heap = new MinHeap<Unit>((a, b) => compareKeyed(a.job, b.job) < 0);
  private readonly units = new Map<number, Unit>();
  private readonly slots: Slot[] = [];
  private readonly filter: Filter;
  private nextId = 0;
  private buffered = 0;
  private inlineMs = 0;
  private spawned = false;
  private failure: Error | undefined;
  /** The compiled lister's helper thread, when in use (no worker threads), and its requests not taken. */
  private readonly helper: AheadHandle | undefined;
  private requested = 0;

  constructor(
    private readonly opts: UnitOptions,
    private readonly threads: number,
  ) {
    this.filter = compileFilter(opts.rules);
    // The helper may enter subdirectories unasked only where the walk enters them all.
    const everything = !opts.follow && !opts.oneFileSystem && this.filter.rules.length === 0;
    this.helper = threads === 0 && dirStat !== undefined ? dirStat.openAhead(opts.follow, everything, AHEAD_MAX_SIZE) : undefined;
  }

  /**
   * With the compiled lister, none: system calls then run on libuv's threads
   * ahead of need (prefetch) while this thread builds lines, which beats
   * worker threads' start-up and copying (100k-file tree: 0.45 s against
   * 0.67 s). Without it, worker threads; this thread lists directories too
   * while it waits, so one CPU is left for it.
   */
  static defaultThreads(): number {
    if (dirStat !== undefined) return 0;
    return Math.max(1, Math.min(4, os.availableParallelism() - 1));
  }

  open(job: DirJob): Unit {
    const unit = this.enqueue(job);
    this.pump();
    return unit;
  }

  private enqueue(job: DirJob): Unit {
    const unit: Unit = { job, id: this.nextId++, state: 'queued', chunks: [] };
    this.units.set(unit.id, unit);
    this.heap.push(unit);
    if (this.helper) this.listAhead();
    return unit;
  }

  /** Asks the helper thread for the nearest-needed queued units, up to AHEAD_DIRS not yet taken. */
  private listAhead(): void {
    while (this.requested < AHEAD_DIRS) {
      const unit = this.pop();
      if (!unit) return;
      if (unit.job.size > AHEAD_MAX_SIZE) continue; // listed inline when needed, a batch at a time
      dirStat!.request(this.helper!, unit.id, asFsPath(unit.job.abs));
      unit.requested = true;
      this.requested++;
    }
  }

  /** The unit's next chunk, in order; runs it inline if nobody has started it. */
  async next(unit: Unit): Promise<ReadyChunk> {
    for (;;) {
      if (this.failure) throw this.failure;
      const chunk = unit.chunks.shift();
      if (chunk) {
        this.buffered -= chunk.text.length;
        if (unit.state === 'worker' && !chunk.last) unit.worker!.worker.postMessage({ type: 'ack', id: unit.id } satisfies ToWorker);
        if (chunk.last) this.units.delete(unit.id);
        this.pump();
        return chunk;
      }
      if (unit.state === 'queued' || unit.state === 'inline') {
        this.runInline(unit);
        continue;
      }
      // Waiting for a worker: rather than idle, list a queued directory here.
      const helped = this.buffered < BUFFER_LIMIT ? this.pop() : undefined;
      if (helped) {
        this.runInline(helped);
        await new Promise<void>((r) => setImmediate(r)); // let the workers' chunks in
        continue;
      }
      await new Promise<void>((r) => (unit.wake = r));
      unit.wake = undefined;
    }
  }

  /** Produces the next chunk of a unit in this thread (starting it if it was queued). */
  private runInline(unit: Unit): void {
    if (unit.state === 'queued') {
      unit.state = 'inline';
      let ahead: Listing | Error | undefined;
      if (unit.requested) {
        unit.requested = false;
        this.requested--;
        const abs = asFsPath(unit.job.abs);
        ahead = listingAhead(dirStat!.take(this.helper!, unit.id), abs, unit.job.id);
        this.listAhead();
      }
      unit.gen = dirUnit(unit.job, this.opts, this.filter, ahead);
    }
    const started = performance.now();
    const r = unit.gen!.next();
    this.inlineMs += performance.now() - started;
    if (!this.spawned && this.threads > 0 && this.inlineMs > SPAWN_AFTER_MS) this.spawn();
    this.receive(unit, r.value as UnitChunk);
  }

  close(): Promise<unknown> {
    if (this.helper) dirStat!.closeAhead(this.helper);
    return Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private receive(unit: Unit, chunk: UnitChunk): void {
    // Subdirectories are queued as soon as they are known, so idle workers can start on them.
    const ready = chunk as ReadyChunk;
    ready.kidUnits = chunk.kids.map((k) => this.enqueue(k.job));
    unit.chunks.push(ready);
    this.buffered += chunk.text.length;
    if (chunk.last) {
      unit.state = 'done';
      unit.gen = undefined;
    }
    unit.wake?.();
  }

  private spawn(): void {
    this.spawned = true;
    const file = path.join(__dirname, 'walk-worker.js');
    for (let i = 0; i < this.threads; i++) {
      // A small young generation: a worker's garbage is short-lived, and each MB counts twice per worker in RSS.
      // node:worker_threads is loaded by the first walk that starts a thread (a small tree's walk, as cairn-diff makes of one, starts none).
      const { Worker } = require('node:worker_threads') as typeof import('node:worker_threads');
      const worker = new Worker(file, { workerData: this.opts, resourceLimits: { maxYoungGenerationSizeMb: YOUNG_MB } });
      const slot: Slot = { worker, ready: false, units: 0 };
      slot.worker.on('message', (msg: FromWorker) => {
        if (msg.type === 'ready') slot.ready = true;
        else {
          const unit = this.units.get(msg.id)!;
          if (msg.chunk.last) slot.units--;
          this.receive(unit, msg.chunk);
        }
        this.pump();
      });
      slot.worker.on('error', (err) => {
        this.failure = err;
        for (const u of this.units.values()) u.wake?.();
      });
      this.slots.push(slot);
    }
  }

  /** Hand queued units to idle workers, nearest-needed first. */
  private pump(): void {
    for (let round = 0; round < DEPTH; round++) {
      for (const slot of this.slots) {
        if (!slot.ready || slot.units >= DEPTH || this.buffered >= BUFFER_LIMIT) continue;
        const unit = this.pop();
        if (!unit) return;
        unit.state = 'worker';
        unit.worker = slot;
        slot.units++;
        slot.worker.postMessage({ type: 'job', id: unit.id, job: unit.job } satisfies ToWorker);
      }
    }
  }

  /** The nearest-needed unit nobody has started (units started inline stay in the heap until popped). */
  private pop(): Unit | undefined {
    for (let u = this.heap.pop(); u !== undefined; u = this.heap.pop()) if (u.state === 'queued') return u;
    return undefined;
  }
}
