import { Writable } from 'node:stream';
import { parentPort, workerData } from 'node:worker_threads';
import { CairnError } from '../cli/errors';
import type { ScanOptions } from '../scan/scan';

/** What the parent sends: the scan's options, without the callbacks. */
export type ScanJob = Omit<ScanOptions, 'interrupted' | 'warn' | 'out' | 'progress'>;

export type FromScanWorker =
  | { chunk: Uint8Array }
  | { warn: [string, string] }
  | { done: number }
  | { error: { what: string; why: string; exitCode: number } | { message: string; code?: string } };

/** Chunks in flight before the scan waits for the parent to take some: memory stays bounded. */
const CREDIT = 8;

/**
 * One side of cairn-diff scanned in a thread of its own, so that two sides
 * are walked at once while the main thread only merges. The entries stream
 * goes to the parent as UTF-8 bytes (transferred, not copied), as if read
 * from a file.
 */
function main(): void {
  const port = parentPort!;
  const job = workerData as ScanJob;
  const encoder = new TextEncoder();
  let credit = CREDIT;
  let resume: (() => void) | undefined;
  port.on('message', () => {
    credit++;
    const r = resume;
    resume = undefined;
    r?.();
  });
  const out = new Writable({
    decodeStrings: false,
    write(text: string | Buffer, _enc, cb) {
      // Text from the writer's lines, bytes from its writeBytes (a --reuse scan's PREV lines): sent as bytes either way.
      const chunk = typeof text === 'string' ? encoder.encode(text) : new Uint8Array(text);
      port.postMessage({ chunk } satisfies FromScanWorker, [chunk.buffer]);
      if (--credit > 0) cb();
      else resume = cb;
    },
  });
  void import('../scan/scan').then(({ scan }) =>
    scan({ ...job, progress: false, interrupted: () => false, warn: (what, why) => port.postMessage({ warn: [what, why] } satisfies FromScanWorker), out }).then(
      (r) => port.postMessage({ done: r.problems } satisfies FromScanWorker),
      (err: unknown) => {
        const error =
          err instanceof CairnError
            ? { what: err.what, why: err.why, exitCode: err.exitCode }
            : { message: (err as Error).message, ...((err as NodeJS.ErrnoException).code ? { code: (err as NodeJS.ErrnoException).code! } : {}) };
        port.postMessage({ error } satisfies FromScanWorker);
      },
    ),
  );
}

main();
