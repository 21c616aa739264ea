import { CopyBatch, type CopySpec } from './copy-files';
import type { FsPath } from './list-dir';

/** Copies per batch: enough that the calls around a batch vanish, few enough that results keep flowing. */
const BATCH = 128;
/** Bytes a write batch holds at most before it goes (they are copied into it). */
const WRITE_BYTES = 8 << 20;

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
  private building: Batch;
  /** Batches handed to the thread, oldest first. */
  private readonly running: Batch[] = [];
  private readonly spare: CopyBatch[] = [];

  /** kind 'write': new files of given bytes (cairn-restore), else copies of files. */
  constructor(private readonly kind: 'copy' | 'write' = 'copy') {
    CopyBatch.newRun();
    this.building = fresh(undefined, kind);
  }

  /** Queues a copy: resolves with the bytes copied, or 'sparse' (not copied: the caller copies it with its holes). */
  add(src: FsPath, tmp: FsPath, dst: FsPath, spec: CopySpec): Promise<number | 'sparse'> {
    this.building.batch.add(src, tmp, dst, spec);
    return this.queued();
  }

  /** Queues a new file of these bytes (a write queue): resolves with their count. */
  write(tmp: FsPath, dst: FsPath, bytes: Buffer, spec: CopySpec): Promise<number | 'sparse'> {
    this.building.batch.write(tmp, dst, bytes, spec);
    return this.queued();
  }

  private queued(): Promise<number | 'sparse'> {
    const b = this.building;
    const p = new Promise<number | 'sparse'>((resolve, reject) => b.waiters.push({ resolve, reject }));
    if (b.batch.full || b.batch.bytes >= WRITE_BYTES) {
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
    this.building = fresh(this.spare.pop(), this.kind);
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

function fresh(batch: CopyBatch | undefined, kind: 'copy' | 'write'): Batch {
  batch ??= new CopyBatch(BATCH, kind);
  return { batch, waiters: [] };
}
