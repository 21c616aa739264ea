import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import type * as WorkerThreads from 'node:worker_threads';
import { CairnError } from '../cli/errors';
import type { ExitCode } from '../cli/exit-codes';
import type { FromScanWorker, ScanJob } from './scan-worker';
import { ENTRIES } from '../records/entries';
import { LineReader } from '../records/line-reader';
import { StreamReader } from '../records/stream-reader';
import type { EntriesReader } from './diff';
import type { S3Options } from '../tree/s3/bucket';
import { isS3 } from '../tree/s3/location';

/**
 * A side scanned in this thread, into a pipe read back like a stream from a
 * file: an s3:// side (its time goes into waiting for the server, not into
 * work a thread would take off the merge) and a small directory (a worker
 * thread's start-up, 80 ms on this VM, would be most of its time).
 */
async function openHere(spec: string, o: SideScan): Promise<{ reader: EntriesReader; problems: () => number }> {
  const pipe = new PassThrough({ highWaterMark: 1 << 20 });
  let problems = 0;
  const common = { hash: o.hash, rules: o.rules, ...(o.caps !== undefined ? { caps: o.caps } : {}), tool: o.tool, warn: o.warn };
  // A local walk runs to its end as it does in a worker (the merge stops on SIGINT); an s3 listing stops with the run.
  const scanned = isS3(spec)
    ? import('../tree/s3/scan').then(({ scanS3 }) => scanS3({ ...(o.s3 ?? { jobs: 8, tries: 6 }), ...common, interrupted: o.interrupted ?? (() => false), root: spec }, pipe))
    : import('../scan/scan').then(({ scan }) =>
        scan({ ...common, interrupted: () => false, root: path.resolve(spec), follow: o.follow, oneFileSystem: o.oneFileSystem, ...(o.reuse !== undefined ? { reuse: o.reuse } : {}), threads: 0, progress: false, out: pipe }),
      );
  scanned.then(
    (r) => {
      problems = r.problems;
      pipe.end();
    },
    (err: unknown) => pipe.destroy(err as Error),
  );
  const reader = await StreamReader.fromLines(new LineReader(pipe, spec), ENTRIES, true);
  return { reader, problems: () => problems };
}

/** Largest directory (st_size) scanned in this thread when it has no subdirectories: a few thousand names. */
const HERE_MAX_SIZE = 64 << 10;

/**
 * A directory with no subdirectory (a link count of 2, where the filesystem
 * counts them: not btrfs, which says 1) and few names: small enough that
 * a worker thread would cost more than it saves.
 */
function isSmallDir(dir: string): boolean {
  try {
    const st = fs.statSync(dir);
    return st.isDirectory() && st.nlink === 2 && st.size <= HERE_MAX_SIZE;
  } catch {
    return false; // the scan reports it
  }
}

/** How to scan a location side: cairn-scan's options but the root, and where its warnings go. */
export type SideScan = Omit<ScanJob, 'root'> & { warn: (what: string, why: string) => void; s3?: S3Options; interrupted?: () => boolean };

/** A location is a directory or an s3:// location to scan; anything else (a file, `-`) is an entries stream. */
export function isLocation(spec: string): boolean {
  if (spec === '-') return false;
  if (isS3(spec)) return true;
  try {
    return fs.statSync(spec).isDirectory();
  } catch {
    return false;
  }
}

/** Opens an entries stream from a file or stdin. */
export function openStream(spec: string): Promise<EntriesReader> {
  return StreamReader.open(spec, ENTRIES);
}

/**
 * Scans a directory with cairn-scan's own walk, in a worker thread (both
 * sides of a diff are walked at once; the main thread merges), read back
 * through the same reader as a stream from a file. A scan that fails (root
 * unreadable) fails the reader with the scan's own error.
 */
export async function openScan(dir: string, o: SideScan): Promise<{ reader: EntriesReader; problems: () => number }> {
  if (isS3(dir) || isSmallDir(dir)) return openHere(dir, o);
  const { warn, s3: _, interrupted: __, ...rest } = o;
  // The thread walks alone: on two cores, more threads per side only compete.
  const job: ScanJob = { ...rest, root: path.resolve(dir), threads: o.threads ?? 0 };
  // Loaded here: a side scanned in this thread (a small tree, as a pipeline's often are) never needs it.
  const { Worker } = require('node:worker_threads') as typeof WorkerThreads;
  const worker = new Worker(path.join(__dirname, 'scan-worker.js'), { workerData: job });
  const pipe = new PassThrough({ highWaterMark: 1 << 20 });
  let problems = 0;
  worker.on('message', (m: FromScanWorker) => {
    if ('chunk' in m) {
      const more = pipe.write(Buffer.from(m.chunk.buffer, m.chunk.byteOffset, m.chunk.byteLength));
      if (more) worker.postMessage('ack');
      else pipe.once('drain', () => worker.postMessage('ack'));
    } else if ('warn' in m) warn(m.warn[0], m.warn[1]);
    else if ('done' in m) {
      problems = m.done;
      pipe.end();
    } else {
      const e = m.error;
      pipe.destroy('exitCode' in e ? new CairnError(e.what, e.why, e.exitCode as ExitCode) : Object.assign(new Error(e.message), e.code ? { code: e.code } : {}));
    }
  });
  worker.on('error', (err) => pipe.destroy(err));
  const reader = await StreamReader.fromLines(new LineReader(pipe, dir), ENTRIES, true);
  return { reader, problems: () => problems };
}
