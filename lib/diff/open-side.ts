import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
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
 * Scans a directory in this process with cairn-scan's own walk, read back
 * through the same reader as a stream from a file, so both kinds of side are
 * checked alike. A scan that fails (root unreadable) fails the reader.
 */
export async function openScan(dir: string, o: SideScan): Promise<{ reader: EntriesReader; problems: () => number }> {
  const { scan } = await import('../scan/scan');
  // Through bytes, as from a file: lines cut from a decoded chunk parse faster than slices of the writer's text.
  const pipe = new PassThrough({ highWaterMark: 1 << 20 });
  let problems = 0;
  scan({
    root: path.resolve(dir),
    hash: o.hash,
    follow: o.follow,
    oneFileSystem: o.oneFileSystem,
    rules: o.rules,
    ...(o.caps !== undefined ? { caps: o.caps } : {}),
    progress: false,
    tool: o.tool,
    interrupted: o.interrupted,
    warn: o.warn,
    out: pipe,
  }).then(
    (r) => {
      problems = r.problems;
      pipe.end();
    },
    (err: unknown) => pipe.destroy(err as Error),
  );
  const reader = await StreamReader.fromLines(new LineReader(pipe, dir), ENTRIES, true);
  return { reader, problems: () => problems };
}
