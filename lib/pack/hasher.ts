import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { HashAlg } from '../records/types';

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
  private readonly acks = new Map<number, { resolve: (digests?: string[]) => void; reject: (err: Error) => void }>();
  private next = 0;
  private digestWait: { resolve: (hex: string) => void; reject: (err: Error) => void } | undefined;
  private failure: Error | undefined;

  constructor(buffers: SharedArrayBuffer[]) {
    this.worker = new Worker(path.join(__dirname, 'hash-thread.js'), { workerData: { buffers } });
    this.worker.on('message', (m: { ack?: number; digest?: string; digests?: string[] }) => {
      if (m.ack !== undefined) {
        this.acks.get(m.ack)?.resolve(m.digests);
        this.acks.delete(m.ack);
      } else if (m.digest !== undefined) this.digestWait?.resolve(m.digest);
    });
    // A thread that dies must not leave the writer waiting for acknowledgements for ever.
    const fail = (err: Error): void => {
      this.failure ??= err;
      for (const a of this.acks.values()) a.reject(this.failure);
      this.acks.clear();
      this.digestWait?.reject(this.failure);
      this.digestWait = undefined;
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`the hashing thread exited (${code})`)));
  }

  start(alg: HashAlg): void {
    if (this.failure) throw this.failure;
    this.worker.postMessage({ op: 'start', alg });
  }

  /** Hash bytes o..o+n of shared buffer b; resolves once they are hashed. */
  update(b: number, o: number, n: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.next++;
    this.worker.postMessage({ op: 'chunk', id, b, o, n });
    return handled(new Promise((resolve, reject) => this.acks.set(id, { resolve: () => resolve(), reject })));
  }

  /**
   * Hex digests of whole files in shared buffer b: `slots` holds offset and
   * size of each. Independent of a file being hashed by chunks.
   */
  files(alg: HashAlg, b: number, slots: Float64Array): Promise<string[]> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.next++;
    this.worker.postMessage({ op: 'files', id, alg, b, slots });
    return handled(new Promise((resolve, reject) => this.acks.set(id, { resolve: (d) => resolve(d!), reject })));
  }

  /** The hex digest of what was hashed since start(). */
  digest(): Promise<string> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.digestWait = { resolve, reject };
      this.worker.postMessage({ op: 'end' });
    });
  }

  close(): Promise<number> {
    this.worker.removeAllListeners('exit');
    return this.worker.terminate();
  }
}

/**
 * The promise itself, marked as handled: the writer keeps these to await
 * when their buffer is reused (TarOut.guard), so a thread that fails before
 * then must not end the process as an unhandled rejection; the await
 * still throws its error.
 */
function handled<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}
