import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openInput } from './stream-reader';

export interface Rereadable {
  /** A file that can be opened as often as needed. */
  file: string;
  /** Removes the spool, if one was made. */
  done(): void;
}

/**
 * An input that can be read more than once: a regular file as it is, a pipe
 * (stdin) copied into a private temporary file first. For commands that must
 * see the whole input before acting (cairn-apply validates every line first;
 * cairn-plan --moves pairs removals with additions).
 */
export async function rereadable(input: string, what: string): Promise<Rereadable> {
  if (input !== '-') {
    try {
      if (fs.statSync(input).isFile()) return { file: input, done: () => {} };
    } catch {
      // Not there: openInput below reports it.
    }
  }
  const source = openInput(input);
  const file = path.join(os.tmpdir(), `cairn-${what}.${process.pid}.${Date.now()}.spool`);
  const fd = fs.openSync(file, 'wx', 0o600);
  try {
    for await (const chunk of source) fs.writeSync(fd, chunk);
  } catch (err) {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
    throw err;
  } finally {
    try {
      fs.closeSync(fd);
    } catch {
      // Closed above.
    }
  }
  return { file, done: () => fs.rmSync(file, { force: true }) };
}
