import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

/**
 * Hashes large files on a second core. sha256 runs at about the speed of
 * the disk I/O a tar does (1.4 GB/s here), so on the main thread it would
 * double the time of packing big files; in a thread of its own it overlaps
 * the reading and writing. The chunks stay in the output buffers, shared
 * with the thread: a buffer is reused only once its chunks are hashed
 * (TarOut awaits the promises update() returns).
 */
export class ThreadHasher {
  private readonly worker: Worker;
  private readonly acks = new Map<number, () => void>();
  private next = 0;
  private digestWait: ((hex: string) => void) | undefined;
  private failure: Error | undefined;

  constructor(buffers: SharedArrayBuffer[]) {
    this.worker = new Worker(path.join(__dirname, 'hash-thread.js'), { workerData: { buffers } });
    this.worker.on('message', (m: { ack?: number; digest?: string }) => {
      if (m.ack !== undefined) {
        this.acks.get(m.ack)?.();
        this.acks.delete(m.ack);
      } else if (m.digest !== undefined) this.digestWait?.(m.digest);
    });
    this.worker.on('error', (err) => (this.failure = err));
  }

  start(alg: string): void {
    if (this.failure) throw this.failure;
    this.worker.postMessage({ op: 'start', alg });
  }

  /** Hash bytes o..o+n of shared buffer b; resolves once they are hashed. */
  update(b: number, o: number, n: number): Promise<void> {
    const id = this.next++;
    this.worker.postMessage({ op: 'chunk', id, b, o, n });
    return new Promise((resolve) => this.acks.set(id, resolve));
  }

  /** The hex digest of what was hashed since start(). */
  digest(): Promise<string> {
    return new Promise((resolve) => {
      this.digestWait = resolve;
      this.worker.postMessage({ op: 'end' });
    });
  }

  close(): Promise<number> {
    return this.worker.terminate();
  }
}
