/**
 * Worker thread of the parallel walk: runs dirUnit for the jobs the
 * coordinator sends and posts their chunks back. A job may have at most AHEAD
 * chunks unacknowledged, so a big directory listed ahead of the output cannot
 * fill memory; while one job waits for acks the worker goes on with its other
 * jobs, so a job the output needs is never stuck behind one it does not.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { compileFilter } from '../../filter/rules';
import { dirUnit, type DirJob, type UnitChunk, type UnitOptions } from './dir-unit';

const AHEAD = 4;

export type ToWorker = { type: 'job'; id: number; job: DirJob } | { type: 'ack'; id: number };
export type FromWorker = { type: 'ready' } | { type: 'chunk'; id: number; chunk: UnitChunk };

interface Active {
  id: number;
  gen: Generator<UnitChunk>;
  unacked: number;
}

if (parentPort) {
  const port = parentPort;
  const opts = workerData as UnitOptions;
  const filter = compileFilter(opts.rules);
  const active: Active[] = [];
  let wake: (() => void) | undefined;

  port.on('message', (msg: ToWorker) => {
    if (msg.type === 'job') active.push({ id: msg.id, gen: dirUnit(msg.job, opts, filter), unacked: 0 });
    else {
      const job = active.find((a) => a.id === msg.id);
      if (job) job.unacked--;
    }
    wake?.();
  });

  const run = async () => {
    for (;;) {
      const job = active.find((a) => a.unacked < AHEAD);
      if (!job) {
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
        continue;
      }
      const chunk = job.gen.next().value as UnitChunk;
      port.postMessage({ type: 'chunk', id: job.id, chunk } satisfies FromWorker);
      if (chunk.last) active.splice(active.indexOf(job), 1);
      else job.unacked++;
      // Acks and new jobs arrive as messages: let them in between chunks.
      if (active.length > 1 || job.unacked >= AHEAD) await new Promise<void>((r) => setImmediate(r));
    }
  };
  port.postMessage({ type: 'ready' } satisfies FromWorker);
  void run();
}
