import { isUtf8 } from 'node:buffer';
import { UsageError } from '../cli/errors';

export type GraftTool = 'xorriso' | 'genisoimage';

const BACKSLASH = 0x5c;
const EQUALS = 0x3d;
const NL = 0x0a;

/** `\` and `=` escaped with a backslash. */
function escape(b: Buffer): Buffer {
  let extra = 0;
  for (const c of b) if (c === BACKSLASH || c === EQUALS) extra++;
  if (extra === 0) return b;
  const out = Buffer.allocUnsafe(b.length + extra);
  let j = 0;
  for (const c of b) {
    if (c === BACKSLASH || c === EQUALS) out[j++] = BACKSLASH;
    out[j++] = c;
  }
  return out;
}

const CR = 0x0d;

/** Why `tool` cannot take this name in a path list, or undefined. */
function refusal(b: Buffer, tool: GraftTool, dest: boolean): string | undefined {
  if (b.includes(NL)) return 'a name with a newline cannot go in a graft-points list (one path a line)';
  // xorriso drops a carriage return at the end of a line (DOS line ends).
  if (tool === 'xorriso' && b[b.length - 1] === CR) return 'xorriso reads a name ending in a carriage return without it';
  if (tool === 'genisoimage') {
    // genisoimage splits a line at the first `=` not after a `\`: after an escaped `\` it does not split.
    if (b[b.length - 1] === BACKSLASH) return 'genisoimage cannot read a name ending in a backslash from a path list: use --format xorriso';
    // With -J it aborts on names that are not UTF-8.
    if (dest && !isUtf8(b)) return 'genisoimage (-J) aborts on a name that is not UTF-8: use --format xorriso';
  }
  return undefined;
}

/**
 * One `DEST=SOURCE` line of a path list, `\` and `=` escaped. A name the
 * tool cannot read back exactly is refused, naming the object.
 */
export function graftLine(dest: Buffer, src: Buffer, tool: GraftTool, what: string): Buffer {
  const why = refusal(dest, tool, true) ?? refusal(src, tool, false);
  if (why !== undefined) throw new UsageError(what, `${why} (rename it, or exclude it from the scan)`);
  return Buffer.concat([escape(dest), Buffer.from('='), escape(src), Buffer.from('\n')]);
}
