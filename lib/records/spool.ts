import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { FatalIoError, describeSystemError } from '../cli/errors';
import { LineReader } from './line-reader';
import { StreamReader, openInput, type StreamSpec } from './stream-reader';

export interface Rereadable {
  /** This process's own copy of the input, to be opened as often as needed: what was checked once cannot have changed. */
  file: string;
  /** Removes the copy. */
  done(): void;
}

/** The copy read again as a stream, by the input's `name`: checked when it was first read, so parsed and not checked again. */
export function readAgain<H, R>(input: Rereadable, name: string, spec: StreamSpec<H, R>): Promise<StreamReader<H, R>> {
  return StreamReader.fromLines(new LineReader(openInput(input.file), name), spec, true);
}

export interface PrivateTemp {
  fd: number;
  /** A name to open it by again. */
  file: string;
  /** Closes (and removes) it. */
  done(): void;
}

/** A stream that writes synchronously to a descriptor: for spools, read back as soon as they are complete. */
export function syncWriter(fd: number): Writable {
  return new Writable({ write: (chunk: Buffer, _enc, cb) => (writeAll(fd, chunk), cb()) });
}

/** All of the chunk, however short the writes. */
export function writeAll(fd: number, chunk: Buffer): void {
  for (let off = 0; off < chunk.length; ) off += fs.writeSync(fd, chunk, off);
}

/**
 * A temporary file only this process sees. Unlinked at once where /proc lets
 * us reopen it by descriptor, so that even kill -9 leaves nothing behind.
 */
export function privateTemp(what: string): PrivateTemp {
  const named = path.join(os.tmpdir(), `cairn-${what}.${process.pid}.${Date.now()}.spool`);
  const fd = fs.openSync(named, 'wx+', 0o600);
  const anonymous = fs.existsSync(`/proc/self/fd/${fd}`);
  if (anonymous) fs.unlinkSync(named);
  return {
    fd,
    file: anonymous ? `/proc/self/fd/${fd}` : named,
    done() {
      try {
        fs.closeSync(fd);
      } catch {
        // Already closed.
      }
      if (!anonymous) fs.rmSync(named, { force: true });
    },
  };
}

/**
 * An input that can be read more than once: copied into a private
 * temporary file first (see teeInput). For commands that must see the
 * whole input before acting (cairn-plan --moves pairs removals with
 * additions).
 */
export async function rereadable(input: string, what: string): Promise<Rereadable> {
  const t = teeInput(input, what);
  for await (const _ of t.source); // read through: the tee keeps it
  return t.input;
}

/**
 * The input as it arrives, for a first reading, and the same bytes kept to
 * be read again once it has ended: copied as they pass to a private
 * temporary file, a regular file as much as a pipe. So what is read again
 * is what the first reading checked, whatever happens to the file
 * meanwhile, and needs no second check (a file edited while a plan is
 * carried out would otherwise stop it half-way); the copy costs less than
 * that check (26 MB, a 100k-file plan: 20 ms against 250 ms). The first
 * reading runs while the writer upstream is still at work. `inner`: the
 * input already opened (and perhaps partly read, its bytes given back).
 */
export function teeInput(input: string, what: string, inner: AsyncIterable<Uint8Array> = openInput(input)): { source: AsyncIterable<Uint8Array>; input: Rereadable } {
  const spool = privateTemp(what);
  const source = (async function* tee() {
    try {
      for await (const chunk of inner) {
        try {
          writeAll(spool.fd, chunk as Buffer);
        } catch (err) {
          // The input is fine: the room for its copy is not (a full or small TMPDIR).
          throw new FatalIoError(os.tmpdir(), `${describeSystemError(err)} (writing the copy of ${input === '-' ? 'standard input' : input} kept while it is read; TMPDIR names another place)`);
        }
        yield chunk;
      }
    } catch (err) {
      spool.done();
      throw err;
    }
  })();
  return { source, input: { file: spool.file, done: spool.done } };
}
