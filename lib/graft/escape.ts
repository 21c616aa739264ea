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

/**
 * One `DEST=SOURCE` line of a path list. A newline cannot be carried by
 * either tool's list (one path per line): such a name is refused.
 */
export function graftLine(dest: Buffer, src: Buffer, tool: GraftTool, what: string): Buffer {
  if (dest.includes(NL) || src.includes(NL)) throw new UsageError(what, 'a name with a newline cannot go in a graft-points list (rename it, or exclude it from the scan)');
  void tool;
  return Buffer.concat([escape(dest), Buffer.from('='), escape(src), Buffer.from('\n')]);
}
