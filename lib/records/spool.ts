import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { openInput } from './stream-reader';

export interface Rereadable {
  /** A file that can be opened as often as needed. */
  file: string;
  /** The file is this process's own copy: what was checked once cannot have changed. */
  private: boolean;
  /** Removes the spool, if one was made. */
  done(): void;
}

export interface PrivateTemp {
  fd: number;
  /** A name to open it by again. */
  file: string;
  /** Closes (and removes) it. */
  done(): void;
}

/**
 * A temporary file only this process sees. Unlinked at once where /proc lets
 * us reopen it by descriptor, so that even kill -9 leaves nothing behind.
 */
/** A stream that writes synchronously to a descriptor: for spools, read back as soon as they are complete. */
export function syncWriter(fd: number): Writable {
  return new Writable({ write: (chunk: Buffer, _enc, cb) => (writeAll(fd, chunk), cb()) });
}

/** All of the chunk, however short the writes. */
export function writeAll(fd: number, chunk: Buffer): void {
  for (let off = 0; off < chunk.length; ) off += fs.writeSync(fd, chunk, off);
}

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
 * An input that can be read more than once: a regular file as it is, a pipe
 * (stdin) copied into a private temporary file first. For commands that must
 * see the whole input before acting (cairn-apply validates every line first;
 * cairn-plan --moves pairs removals with additions).
 */
export async function rereadable(input: string, what: string): Promise<Rereadable> {
  const t = teeInput(input, what);
  for await (const _ of t.source); // read through: the tee keeps it
  return t.input;
}

/**
 * The input as it arrives, for a first reading, and the same bytes kept to
 * be read again once it has ended (a pipe spooled to a private temporary
 * file as it passes; a regular file as it is). The first reading runs while
 * the writer upstream is still at work.
 */
export function teeInput(input: string, what: string): { source: AsyncIterable<Uint8Array>; input: Rereadable } {
  if (input !== '-') {
    try {
      if (fs.statSync(input).isFile()) return { source: openInput(input), input: { file: input, private: false, done: () => {} } };
    } catch {
      // Not there: openInput below reports it.
    }
  }
  const inner = openInput(input);
  const spool = privateTemp(what);
  const source = (async function* tee() {
    try {
      for await (const chunk of inner) {
        fs.writeSync(spool.fd, chunk);
        yield chunk;
      }
    } catch (err) {
      spool.done();
      throw err;
    }
  })();
  return { source, input: { file: spool.file, private: true, done: spool.done } };
}
