import * as fs from 'node:fs';
import * as path from 'node:path';
import type { S3Options } from '../tree/s3/bucket';
import { UsageError, describeSystemError } from '../cli/errors';
import { capsForFsType, fsTypeOf } from '../tree/local/caps';
import { restoreTars } from './from-tar';
import { Report } from './report';
import { Restorer, type Overwrite } from './restorer';
import { compileSelector } from './select';

export interface RestoreOptions {
  dest: string;
  tars: string[];
  catalog?: string;
  media: string[];
  mounter?: string;
  from?: string;
  globs: string[];
  regexes: string[];
  paths: string[];
  asOf?: string;
  overwrite: Overwrite;
  dryRun: boolean;
  specials: boolean;
  list: boolean;
  /** For an s3:// mirror (--from). */
  s3?: S3Options;
  interrupted?: () => boolean;
  tool: string;
  warn: (what: string, why: string) => void;
}

/** The destination, which must be an existing directory: its real path. */
export function destination(d: string): string {
  const abs = path.resolve(d);
  let st: fs.Stats;
  try {
    st = fs.statSync(abs);
  } catch (err) {
    throw new UsageError(`-d ${d}`, `${describeSystemError(err)} (the destination must exist)`);
  }
  if (!st.isDirectory()) throw new UsageError(`-d ${d}`, 'not a directory');
  return fs.realpathSync(abs);
}

/** What the destination keeps, as the restorer needs it. */
export function destCaps(dest: string): { foldCase: boolean; owners: boolean; perms: boolean; precisionNs: number } {
  const caps = capsForFsType(fsTypeOf(dest));
  return { foldCase: !caps.case_sensitive, owners: caps.owners, perms: caps.perms, precisionNs: caps.mtime_precision_ns };
}

/** cairn-restore as a function: whether anything was skipped or failed. */
export async function runRestore(o: RestoreOptions): Promise<{ attention: boolean }> {
  const select = compileSelector(o.globs, o.regexes, o.paths);
  const catalogMode = o.catalog !== undefined || o.media.length > 0 || o.mounter !== undefined;
  if (o.from !== undefined && (o.list || o.asOf !== undefined)) throw new UsageError(o.list ? '--list' : '--as-of', 'only with a catalog (a mirror has one state, and no media to list)');
  if (catalogMode || o.from !== undefined) {
    const { restoreCatalog } = await import('./from-catalog');
    return restoreCatalog(o, select, catalogMode ? undefined : o.from);
  }
  if (o.asOf !== undefined) throw new UsageError('--as-of', 'only with a catalog (--catalog, --media or --mounter)');
  if (o.list) throw new UsageError('--list', 'only with a catalog (--catalog, --media or --mounter)');
  const dest = destination(o.dest);
  const r = new Restorer({ dest, overwrite: o.overwrite, dryRun: o.dryRun, ...destCaps(dest), queue: true });
  const tars = o.tars.length > 0 ? o.tars : ['-'];
  const report = new Report({ src: tars.map((t) => (t === '-' ? 'stdin' : path.resolve(t))), dst: dest, dry_run: o.dryRun }, o.warn, o.tool);
  try {
    await restoreTars(tars, r, report, { select, specials: o.specials });
  } catch (err) {
    // What was restored before a fatal error (no space) is reported; no end record: the run did not finish.
    report.flush();
    throw err;
  }
  await report.end();
  return { attention: report.problems > 0 };
}
