import * as fs from 'node:fs';
import { Readable } from 'node:stream';
import { ENTRIES } from '../records/entries';
import { LineReader } from '../records/line-reader';
import { StreamReader } from '../records/stream-reader';
import { STREAM_VERSION, type EntriesHeader } from '../records/types';
import { checkLock } from '../state/lock';
import { unionCaps } from '../state/caps';
import type { EntriesReader } from './diff';

/**
 * The base of a three-way diff: the pair's state file, or, on the first
 * run (no such file yet), an empty base, against which every object on
 * either side is new and nothing can have been deleted.
 */
export async function openBase(file: string, a: EntriesHeader, b: EntriesHeader, tool: string, warn: (what: string, why: string) => void): Promise<EntriesReader> {
  checkLock(file);
  if (fs.existsSync(file)) {
    const r = await StreamReader.open(file, ENTRIES);
    const pair = (r.header as { pair?: { a?: string; b?: string } }).pair;
    if (pair !== undefined && (pair.a !== a.root || pair.b !== b.root)) {
      warn(file, `the state is of ${pair.a} and ${pair.b}; comparing ${a.root} and ${b.root} against it`);
    }
    return r;
  }
  const header: EntriesHeader = {
    cairn: 'entries',
    version: STREAM_VERSION,
    root: a.root,
    hash: a.hash ?? b.hash ?? 'sha256',
    caps: unionCaps(a.caps, b.caps),
    filters: [],
    options: { follow: false, one_file_system: false },
    tool,
    created: new Date().toISOString(),
  };
  const text = `${JSON.stringify(header)}\n{"cairn":"end"}\n`;
  return StreamReader.fromLines(new LineReader(Readable.from([Buffer.from(text)]), file), ENTRIES, true);
}
