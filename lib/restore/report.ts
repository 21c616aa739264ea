import { isAscii } from 'node:buffer';
import { readableName } from '../records/raw-names';
import { STREAM_VERSION } from '../records/types';
import { NdjsonWriter } from '../records/writer';
import type { Outcome } from './restorer';

/** What one restored object reports. */
export interface Reported extends Outcome {
  name: Buffer;
  type: string;
  volume?: number;
  part?: { offset: number; size: number };
}

/**
 * The results stream of cairn-restore (one record per object, in the order
 * they were handled) and its problems on stderr, one line each:
 * `cairn-restore: SOURCE: PATH: why`.
 */
export class Report {
  private readonly w = new NdjsonWriter();
  problems = 0;
  /** The header, written with the first record or the end: a run refused before its first object writes nothing. */
  private header: Record<string, unknown> | undefined;

  constructor(
    header: Record<string, unknown>,
    private readonly warn: (what: string, why: string) => void,
    tool: string,
  ) {
    this.header = { cairn: 'results', version: STREAM_VERSION, ...header, tool, created: new Date().toISOString() };
  }

  private begin(): void {
    if (this.header === undefined) return;
    this.w.write(this.header);
    this.header = undefined;
  }

  /** Reports one object; a promise only when the output asks to wait (await it before the next: no promise per object otherwise). */
  add(source: string, r: Reported): Promise<void> | undefined {
    this.begin();
    // An ASCII name is its own text (most are): no decoding, no Buffer to compare it with.
    const ascii = isAscii(r.name);
    const path = ascii ? r.name.toString('latin1') : readableName(r.name);
    if (ascii && r.volume === undefined && r.part === undefined && r.error === undefined) {
      // The record JSON.stringify would make of the fields below (type and status are plain words).
      this.w.writeLine(`{"op":"restore","path":${JSON.stringify(path)},"type":"${r.type}","status":"${r.status}"}`);
    } else {
      const rec: Record<string, unknown> = { op: 'restore', path };
      if (!ascii && !r.name.equals(Buffer.from(path, 'utf8'))) rec.path_b64 = r.name.toString('base64');
      rec.type = r.type;
      if (r.volume !== undefined) rec.volume = r.volume;
      if (r.part !== undefined) rec.part = r.part;
      rec.status = r.status;
      if (r.error !== undefined) rec.error = r.error;
      this.w.write(rec);
    }
    if (r.status === 'failed' || r.status === 'skipped') {
      this.problems++;
      this.warn(`${source}: ${path}`, `${r.status === 'skipped' ? 'skipped: ' : ''}${r.error ?? r.status}`);
    }
    return this.w.blocked ? this.w.drain() : undefined;
  }

  end(): Promise<void> {
    this.begin();
    return this.w.end();
  }

  /** Writes out what is reported so far, without the end record: a run that stops on an error. */
  flush(): void {
    this.w.flush();
  }
}
