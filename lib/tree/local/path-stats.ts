import { F, dirStat, fileReader, statRecord, systemError } from './native';
import { batchId, readerThread } from './reader-thread';
import { statOf, type Stat } from './stat';

type Result = Stat | NodeJS.ErrnoException;

/**
 * lstat(2) of many whole paths at once: one call of the compiled addon
 * per batch (fstatat from the current directory), else Node's lstat one
 * by one. Each result is a Stat or the error Node's lstat would have
 * thrown, in the order of `paths`. cairn-pack checks every object of a
 * volume before writing its descriptor: 100k paths cost 580 ms through
 * Node's lstat here and 160 ms this way.
 */
export function lstatPaths(paths: Buffer[]): Result[] {
  if (dirStat === undefined) return paths.map(byNode);
  const { names, ends } = packed(paths);
  return resultsOf(paths, dirStat.statAt(null, names, ends, 0, paths.length, false) as Float64Array);
}

/**
 * lstatPaths in the addon's reader thread: start() hands the paths over
 * and returns at once, finish() waits for what lstatPaths would have
 * given. cairn-pack parses its plan on meanwhile (the 160 ms of 100k
 * lstats were a quarter of its time before the first byte). Without the
 * addon, finish() takes them then, through Node.
 */
export class LstatBatch {
  private id = -1;
  private paths: Buffer[] = [];

  start(paths: Buffer[]): void {
    this.paths = paths;
    if (fileReader === undefined || dirStat === undefined || paths.length === 0) return;
    const { names, ends } = packed(paths);
    this.id = batchId();
    fileReader.submit(readerThread(), this.id, 3, names, ends, paths.length, NO_JOBS, undefined);
  }

  finish(): Result[] {
    if (this.id < 0) return this.paths.map(byNode);
    const a = new Float64Array(this.paths.length * dirStat!.STRIDE);
    fileReader!.finish(readerThread(), this.id, a);
    this.id = -1;
    return resultsOf(this.paths, a);
  }
}

/** An lstat has no job numbers; one, as the addon takes no empty array (its data pointer would be NULL). */
const NO_JOBS = new Float64Array(1);

/** The paths NUL-terminated back to back, and where each ends. */
function packed(paths: Buffer[]): { names: Buffer; ends: Uint32Array } {
  let bytes = 0;
  for (const p of paths) bytes += p.length + 1;
  const names = Buffer.allocUnsafe(bytes);
  const ends = new Uint32Array(paths.length);
  let at = 0;
  paths.forEach((p, k) => {
    at += p.copy(names, at);
    names[at++] = 0;
    ends[k] = at;
  });
  return { names, ends };
}

/** statAt's numbers as results. */
function resultsOf(paths: Buffer[], a: Float64Array): Result[] {
  return paths.map((p, k) => {
    const o = k * dirStat!.STRIDE;
    const errno = a[o + F.ERR]!;
    if (errno !== 0) return systemError(errno, 'lstat', p);
    // Numbers a double does not hold exactly: Node's call gives them as decimals. (Paths hold no NUL: records/entries.ts.)
    return statRecord(a, o) ?? byNode(p);
  });
}

function byNode(p: Buffer): Result {
  try {
    return statOf(p, false);
  } catch (err) {
    return err as NodeJS.ErrnoException;
  }
}
