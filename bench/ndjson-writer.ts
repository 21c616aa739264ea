/**
 * Writes ~1M entries to /dev/null the ways cairn could, to justify its own
 * writer by numbers (bench/run.sh prints them next to the reader's):
 *
 *   node dist/bench/ndjson-writer.js MODE FIXTURE
 *
 *   cairn         NdjsonWriter.write(record): JSON.stringify, 64 KiB writes, backpressure
 *   cairn-lines   NdjsonWriter.writeLine(entryLine(record)): what cairn-scan does
 *   ndjson        the ndjson package's stringify() stream piped to the file
 *
 * The fixture is parsed first (not timed). Prints `LINES SECONDS`, the best of 3.
 */
import * as fs from 'node:fs';
import * as ndjson from 'ndjson';
import { entryLine } from '../lib/records/entry-line';
import type { Entry } from '../lib/records/types';
import { NdjsonWriter } from '../lib/records/writer';

function sink(): fs.WriteStream {
  return fs.createWriteStream('/dev/null', { highWaterMark: 1 << 16 });
}

async function viaCairn(records: Entry[], lines: boolean): Promise<void> {
  const out = sink();
  const w = new NdjsonWriter(out);
  for (const r of records) {
    if (lines) w.writeLine(entryLine(r));
    else w.write(r);
    if (w.blocked) await w.drain();
  }
  await w.end();
  await new Promise<void>((resolve) => out.end(resolve));
}

async function viaNdjson(records: Entry[]): Promise<void> {
  const out = sink();
  const s = ndjson.stringify();
  s.pipe(out);
  for (const r of records) {
    if (!s.write(r)) await new Promise<void>((resolve) => s.once('drain', resolve));
  }
  s.end();
  await new Promise<void>((resolve) => out.on('finish', resolve));
}

async function main(): Promise<void> {
  const [mode, file] = process.argv.slice(2);
  if (!mode || !file || !['cairn', 'cairn-lines', 'ndjson'].includes(mode)) {
    process.stderr.write('usage: ndjson-writer.js cairn|cairn-lines|ndjson FIXTURE\n');
    process.exit(2);
  }
  const records = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.startsWith('{"path"')).map((l) => JSON.parse(l) as Entry);
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t = process.hrtime.bigint();
    if (mode === 'ndjson') await viaNdjson(records);
    else await viaCairn(records, mode === 'cairn-lines');
    best = Math.min(best, Number(process.hrtime.bigint() - t) / 1e9);
  }
  process.stdout.write(`${records.length} ${best.toFixed(3)}\n`);
}

void main();
