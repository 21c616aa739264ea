/**
 * Reads an entries stream the ways bench/run.sh compares (see the comment in
 * lib/records/line-reader.ts on why cairn has its own reader):
 *
 *   node dist/bench/ndjson-reader.js cairn FILE           StreamReader + ENTRIES: split, parse,
 *                                                         validate every record, check order and end
 *   node dist/bench/ndjson-reader.js ndjson FILE          the ndjson package's parse() stream: split
 *                                                         and parse only, no validation
 *   node dist/bench/ndjson-reader.js ndjson-validate FILE ndjson's parse() plus the same header,
 *                                                         record and order checks as cairn
 *
 * Prints `LINES SECONDS` (lines including header and end record; seconds of
 * reading alone, start-up excluded). run.sh times the whole process and uses
 * LINES to check that every reader got through the whole file.
 */
import * as fs from 'node:fs';
import * as ndjson from 'ndjson';
import { ENTRIES, validateEntriesHeader, validateEntry } from '../lib/records/entries';
import { compareKeyed, type Keyed } from '../lib/records/order';
import { MORE, StreamReader } from '../lib/records/stream-reader';

/** The loop diff and --reuse run: take() what is buffered, await more() only when it is empty. */
async function readCairn(file: string): Promise<number> {
  const r = await StreamReader.open(file, ENTRIES);
  let n = 1;
  for (;;) {
    const rec = r.take();
    if (rec === MORE) await r.more();
    else if (rec === undefined) break;
    else n++;
  }
  return n + 1;
}

function readNdjson(file: string, validate: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    let n = 0;
    let ended = false;
    let prev: Keyed | undefined;
    const input = fs.createReadStream(file, { highWaterMark: 1 << 20 });
    const parser = ndjson.parse();
    input.on('error', reject);
    parser.on('error', reject);
    parser.on('data', (obj: Record<string, unknown>) => {
      n++;
      if (!validate) return;
      const at = { file, line: n };
      if (n === 1) {
        if (obj.cairn !== 'entries') reject(new Error(`${file}: not an entries stream`));
        validateEntriesHeader(obj, at);
      } else if (obj.cairn === 'end') {
        ended = true;
      } else {
        const rec = validateEntry(obj, at) as unknown as Keyed;
        if (prev !== undefined && compareKeyed(prev, rec) >= 0) reject(new Error(`${file}:${n}: out of order`));
        prev = rec;
      }
    });
    parser.on('end', () => (validate && !ended ? reject(new Error(`${file}: no end record`)) : resolve(n)));
    input.pipe(parser);
  });
}

async function main(argv: string[]): Promise<void> {
  const [mode, file] = argv;
  if (file === undefined) throw new Error('usage: ndjson-reader.js cairn|ndjson|ndjson-validate FILE');
  const t0 = process.hrtime.bigint();
  let lines: number;
  if (mode === 'cairn') lines = await readCairn(file);
  else if (mode === 'ndjson') lines = await readNdjson(file, false);
  else if (mode === 'ndjson-validate') lines = await readNdjson(file, true);
  else throw new Error(`unknown mode ${JSON.stringify(mode)}`);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stdout.write(`${lines} ${seconds.toFixed(3)}\n`);
}

main(process.argv.slice(2)).catch((err: Error) => {
  process.stderr.write(`bench/ndjson-reader: ${err.message}\n`);
  process.exit(1);
});
