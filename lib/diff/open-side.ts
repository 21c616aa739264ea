import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { CairnError } from '../cli/errors';
import type { ExitCode } from '../cli/exit-codes';
import type { FromScanWorker, ScanJob } from './scan-worker';
import { ENTRIES } from '../records/entries';
import { LineReader } from '../records/line-reader';
import { StreamReader } from '../records/stream-reader';
import type { FilterRule, HashAlg } from '../records/types';
import type { EntriesReader } from './diff';

export interface SideScan {
  rules: FilterRule[];
  hash: HashAlg | null;
  follow: boolean;
  oneFileSystem: boolean;
  caps?: string;
  /** Worker threads for the walk of each scanned side (see cairn-scan --threads). */
  threads?: number;
  tool: string;
  interrupted: () => boolean;
  warn: (what: string, why: string) => void;
}

/** A location is a directory to scan; anything else (a file, `-`) is an entries stream. */
export function isLocation(spec: string): boolean {
  if (spec === '-') return false;
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
  const job: ScanJob = {
    root: path.resolve(dir),
    hash: o.hash,
    follow: o.follow,
    oneFileSystem: o.oneFileSystem,
    rules: o.rules,
    ...(o.caps !== undefined ? { caps: o.caps } : {}),
    // The thread walks alone: on two cores, more threads per side only compete.
    threads: o.threads ?? 0,
    tool: o.tool,
  };
  const worker = new Worker(path.join(__dirname, 'scan-worker.js'), { workerData: job });
  const pipe = new PassThrough({ highWaterMark: 1 << 20 });
  let problems = 0;
  worker.on('message', (m: FromScanWorker) => {
    if ('chunk' in m) {
      const more = pipe.write(Buffer.from(m.chunk.buffer, m.chunk.byteOffset, m.chunk.byteLength));
      if (more) worker.postMessage('ack');
      else pipe.once('drain', () => worker.postMessage('ack'));
    } else if ('warn' in m) o.warn(m.warn[0], m.warn[1]);
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
