import * as path from 'node:path';
import type { Writable } from 'node:stream';
import { Progress } from '../cli/progress';
import { compileFilter } from '../filter/rules';
import { NdjsonWriter } from '../records/writer';
import { STREAM_VERSION, type Caps, type EntriesHeader, type EntryBody, type FilterRule, type HashAlg } from '../records/types';
import { statOf } from '../tree/local/stat';
import { entryFromStat } from '../tree/local/stat-entry';
import { capsForFsType, fsTypeOf, overrideCaps } from '../tree/local/caps';
import { Scheduler } from '../tree/local/scheduler';
import { walkLocal, type WalkResult } from '../tree/local/walk';
import { Reuse } from './reuse';

export interface ScanOptions {
  root: string;
  hash: HashAlg | null;
  follow: boolean;
  oneFileSystem: boolean;
  rules: FilterRule[];
  /** `--caps` overrides, `key=value,...`. */
  caps?: string;
  /** A previous entries stream whose hashes may be reused. */
  reuse?: string;
  progress: boolean;
  /** Worker threads for the walk (default: Scheduler.defaultThreads(); 0: none). */
  threads?: number;
  tool: string;
  interrupted: () => boolean;
  warn: (what: string, why: string) => void;
  out?: Writable;
}

/** The root's own attributes, for the header (a missing root is reported by the walk). */
function rootEntry(root: string): { root_entry?: EntryBody } {
  try {
    const { path: _, ...body } = entryFromStat('.', undefined, 'dir', statOf(root, true));
    return { root_entry: body };
  } catch {
    return {};
  }
}

export function detectCaps(root: string, override: string | undefined): Caps {
  const caps = capsForFsType(fsTypeOf(root));
  return override !== undefined ? overrideCaps(caps, override) : caps;
}

/**
 * cairn-scan as a function: everything that can be refused (filters, caps,
 * the --reuse stream, the root) is checked before the header is written, so
 * bad input leaves stdout empty.
 */
export async function scan(opts: ScanOptions): Promise<WalkResult> {
  const root = path.resolve(opts.root);
  const filter = compileFilter(opts.rules);
  const caps = detectCaps(root, opts.caps);
  const reuse: Reuse | undefined = opts.reuse !== undefined ? await Reuse.open(opts.reuse, opts.hash) : undefined;
  const writer = new NdjsonWriter(opts.out);
  const progress = opts.progress ? new Progress(opts.tool.split(' ')[0]!) : undefined;
  const header: EntriesHeader = {
    cairn: 'entries',
    version: STREAM_VERSION,
    root,
    hash: opts.hash,
    caps,
    filters: filter.rules.slice(),
    options: { follow: opts.follow, one_file_system: opts.oneFileSystem },
    ...rootEntry(root),
    tool: opts.tool,
    created: new Date().toISOString(),
  };
  const result = await walkLocal(
    root,
    {
      follow: opts.follow,
      oneFileSystem: opts.oneFileSystem,
      rules: filter.rules,
      hash: opts.hash,
      threads: opts.threads ?? Scheduler.defaultThreads(),
      ...(reuse ? { reuse } : {}),
      interrupted: opts.interrupted,
      warn: opts.warn,
      ...(progress ? { listed: (n: number, bytes: number) => progress.add(n, bytes) } : {}),
    },
    {
      begin: () => writer.write(header),
      put: (text) => writer.writeText(text),
      putBytes: (lines) => writer.writeBytes(lines),
      get blocked() {
        return writer.blocked;
      },
      drain: () => writer.drain(),
    },
  );
  progress?.done();
  if (opts.interrupted()) writer.flush();
  else {
    await reuse?.finish();
    await writer.end();
  }
  return result;
}
