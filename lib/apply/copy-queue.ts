import { CopyBatch, type CopySpec } from '../tree/local/copy-files';
import type { FsPath } from '../tree/local/list-dir';

/** Copies per batch: enough that the calls around a batch vanish, few enough that results keep flowing. */
const BATCH = 128;

interface Waiter {
  resolve: (r: number | 'sparse') => void;
  reject: (err: Error) => void;
}

interface Batch {
  batch: CopyBatch;
  waiters: Waiter[];
}

/**
 * Small new files on their way to the destination: queued by cairn-apply
 * as it reads the plan, copied a batch at a time by the addon's thread
 * while the plan is read on (see lib/tree/local/copy-files.ts). Results
 * come back in order.
 */
export class CopyQueue {
  private building: Batch = fresh();
  /** Batches handed to the thread, oldest first. */
  private readonly running: Batch[] = [];
  private readonly spare: CopyBatch[] = [];

  constructor() {
    CopyBatch.newRun();
  }

  /** Queues a copy: resolves with the bytes copied, or 'sparse' (not copied: the caller copies it with its holes). */
  add(src: FsPath, tmp: FsPath, dst: FsPath, spec: CopySpec): Promise<number | 'sparse'> {
    const b = this.building;
    b.batch.add(src, tmp, dst, spec);
    const p = new Promise<number | 'sparse'>((resolve, reject) => b.waiters.push({ resolve, reject }));
    if (b.batch.full) {
      this.submit();
      // One batch copying while the next is filled: wait for the one before.
      while (this.running.length > 1) this.finishOldest();
    }
    return p;
  }

  /** Copies everything queued, now: every promise settled. */
  flush(): void {
    this.submit();
    while (this.running.length > 0) this.finishOldest();
  }

  private submit(): void {
    const b = this.building;
    if (b.batch.count === 0) return;
    b.batch.start();
    this.running.push(b);
    this.building = fresh(this.spare.pop());
  }

  private finishOldest(): void {
    const b = this.running.shift()!;
    b.batch.finish();
    b.waiters.forEach((w, k) => {
      const r = b.batch.outcome(k);
      if (r instanceof Error) w.reject(r);
      else w.resolve(r);
    });
    b.batch.clear();
    this.spare.push(b.batch);
  }
}

function fresh(batch = new CopyBatch(BATCH)): Batch {
  return { batch, waiters: [] };
}
