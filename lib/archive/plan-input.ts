import { InputError, UsageError } from '../cli/errors';
import { LineReader } from '../records/line-reader';
import { PLAN } from '../records/plan';
import { readAgain, teeInput, type Rereadable } from '../records/spool';
import { MORE, StreamReader, inputName } from '../records/stream-reader';
import type { Action, ArchivePlan, PlanHeader } from '../records/types';

export interface ArchivePlanInput {
  header: PlanHeader & { archive: ArchivePlan };
  input: Rereadable;
  name: string;
}

/**
 * Reads a whole archive plan, validating every record, before any byte of a
 * volume is written: a truncated or wrongly edited plan produces nothing.
 * It is copied as it is read (teeInput), to be read again per volume.
 */
export async function readArchivePlan(source: string): Promise<ArchivePlanInput> {
  const tee = teeInput(source, 'volume');
  return checkArchivePlan(tee.source, tee.input, inputName(source));
}

/** As readArchivePlan, for input already opened (and kept to be read again). */
export async function checkArchivePlan(
  source: AsyncIterable<Uint8Array>,
  input: Rereadable,
  name: string,
  each?: (a: Action, header: ArchivePlanInput['header']) => void,
): Promise<ArchivePlanInput> {
  const tee = { input };
  try {
    const reader = await StreamReader.fromLines(new LineReader(source, name), PLAN);
    const h = reader.header;
    if (h.mode !== 'archive') throw new InputError(reader.file, 1, 'mode', `expected an archive plan (cairn-plan --archive), got ${h.mode}`);
    let last = 0;
    await reader.each((a) => {
      if (a.volume! < last) throw new InputError(reader.file, reader.line, 'volume', 'volumes out of order: a plan lists volume by volume');
      last = a.volume!;
      each?.(a, h as ArchivePlanInput['header']);
    });
    return { header: h as ArchivePlanInput['header'], input: tee.input, name };
  } catch (err) {
    tee.input.done();
    throw err;
  }
}

/**
 * Hands every action of one volume to `fn`, in plan order, read again from
 * the checked plan; awaits only when `fn` returns a promise (a tar buffer
 * going out) or the reader needs more input: per action, no promise at all.
 */
export async function eachAction(p: ArchivePlanInput, volume: number, fn: (a: Action) => Promise<void> | undefined): Promise<void> {
  const reader = await readAgain(p.input, p.name, PLAN);
  try {
    for (;;) {
      const a = reader.take();
      if (a === MORE) {
        await reader.more();
        continue;
      }
      if (a === undefined || a.volume! > volume) return;
      if (a.volume !== volume) continue;
      const pending = fn(a);
      if (pending !== undefined) await pending;
    }
  } finally {
    reader.close();
  }
}

/** The volumes a command writes: all of them with a %-pattern output, else the plan must hold one. */
export function volumesToWrite(p: ArchivePlanInput, pattern: boolean, flag: string, hint?: string): number[] {
  const vols = p.header.archive.volumes.map((v) => v.volume);
  if (vols.length > 1 && !pattern) {
    throw new UsageError(flag, `the plan holds ${vols.length} volumes (${vols.join(', ')}): ${hint ?? 'give a name with %d (like vol-%04d.tar) to write each'}`);
  }
  return vols;
}

/** NAME with %d, %4d or %04d replaced by the volume number (printf style). */
export function expandPattern(pattern: string, volume: number): string {
  return pattern.replace(/%(0?)(\d*)d/g, (_m, zero: string, width: string) => String(volume).padStart(Number(width || 0), zero ? '0' : ' '));
}

export function hasPattern(name: string): boolean {
  return /%0?\d*d/.test(name);
}
