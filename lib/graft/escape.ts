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
 * Bytes of a symlink target in Rock Ridge SL records, as genisoimage counts
 * them: 2 + length per component, 2 for ".", ".." or a leading "/".
 */
function slBytes(target: Buffer): number {
  let n = 0;
  for (const c of target.toString('latin1').split('/')) n += 2 + (c === '.' || c === '..' ? 0 : c.length);
  return n;
}

/** Why a symlink's target cannot be stored exactly, or undefined. */
function targetRefusal(target: Buffer, tool: GraftTool): string | undefined {
  // Measured: genisoimage writes wrong targets, or hangs, beyond 249 bytes of SL records; xorriso refuses over 1023 bytes.
  if (tool === 'genisoimage' && slBytes(target) > 249) return 'genisoimage cannot store a symlink target this long (over 249 bytes of Rock Ridge records): use --format xorriso';
  if (tool === 'xorriso' && target.length > 1023) return 'xorriso cannot store a symlink target over 1023 bytes';
  return undefined;
}

/**
 * One `DEST=SOURCE` line of a path list, `\` and `=` escaped. A name the
 * tool cannot read back exactly is refused, naming the object; so is a
 * name over 255 bytes (both tools would cut it) and a symlink whose target
 * the tool would not store exactly.
 */
export function graftLine(dest: Buffer, src: Buffer, tool: GraftTool, what: string, target?: Buffer): Buffer {
  const last = dest.length - dest.lastIndexOf(0x2f) - 1;
  const why =
    (last > 255 ? `a name over 255 bytes (${last}) would be cut short by ${tool}` : undefined) ??
    refusal(dest, tool, true) ??
    refusal(src, tool, false) ??
    (target !== undefined ? targetRefusal(target, tool) : undefined);
  if (why !== undefined) throw new UsageError(what, `${why} (rename it, or exclude it from the scan)`);
  const line = Buffer.concat([escape(dest), Buffer.from('='), escape(src), Buffer.from('\n')]);
  // xorriso reads path-list lines of at most 4094 bytes (it cuts longer ones).
  if (tool === 'xorriso' && line.length > 4094) throw new UsageError(what, `its graft line would be ${line.length} bytes; xorriso reads at most 4094 (shorten the path)`);
  return line;
}
