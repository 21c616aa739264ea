import { InputError } from '../cli/errors';
import { POSIX_CAPS, pathProblem, validateBody } from './entries';
import type { Loc, StreamSpec } from './stream-reader';
import { isTime } from './time';
import { HASH_ALGS, MEDIUM_FORMATS, PLAN_OPS, type MediumFormat, type Action, type Caps, type HashAlg, type PlanHeader, type PlanOp } from './types';

function fail(at: Loc, field: string | undefined, why: string): never {
  throw new InputError(at.file, at.line, field, why);
}

const OPS = new Set<string>(PLAN_OPS);
/** What each op must and may carry. */
const NEEDS: Record<PlanOp, { src: boolean; expect: 'yes' | 'no' | 'may' }> = {
  mkdir: { src: true, expect: 'no' },
  copy: { src: true, expect: 'no' },
  update: { src: true, expect: 'yes' },
  symlink: { src: true, expect: 'may' },
  special: { src: true, expect: 'may' },
  meta: { src: false, expect: 'may' },
  agree: { src: false, expect: 'no' },
  conflict: { src: false, expect: 'no' },
  store: { src: true, expect: 'no' },
  tombstone: { src: false, expect: 'no' },
  move: { src: true, expect: 'yes' },
  remove: { src: false, expect: 'yes' },
  rmdir: { src: false, expect: 'yes' },
};

function checkPath(v: unknown, at: Loc, field: string): string {
  if (typeof v !== 'string') fail(at, field, 'missing or not a string');
  const bad = pathProblem(v);
  if (bad) fail(at, field, `${bad}: plan paths stay inside their root`);
  return v;
}

function checkRawPath(v: unknown, at: Loc, field: string): void {
  if (v === undefined) return;
  const raw = typeof v === 'string' ? Buffer.from(v, 'base64') : undefined;
  if (raw === undefined || raw.toString('base64') !== v) fail(at, field, 'not canonical base64');
  const bad = raw.includes(0) ? 'NUL byte' : pathProblem(raw.toString('latin1'));
  if (bad) fail(at, field, `${bad}: plan paths stay inside their root`);
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function checkArchive(v: unknown, at: Loc): void {
  const a = v as Record<string, unknown> | undefined;
  if (typeof a !== 'object' || a === null) fail(at, 'archive', 'an archive plan needs its archive object');
  if (typeof a.catalog !== 'string' || !a.catalog.startsWith('/')) fail(at, 'archive.catalog', 'missing or not an absolute path');
  if (!isCount(a.medium_size) || a.medium_size === 0) fail(at, 'archive.medium_size', 'must be a positive byte count');
  if (!MEDIUM_FORMATS.includes(a.format as MediumFormat)) fail(at, 'archive.format', `must be one of ${MEDIUM_FORMATS.join(', ')}`);
  if (!Array.isArray(a.volumes)) fail(at, 'archive.volumes', 'must be a list');
  for (const vol of a.volumes as Record<string, unknown>[]) {
    if (typeof vol !== 'object' || vol === null || !isCount(vol.volume) || vol.volume < 1 || typeof vol.label !== 'string') fail(at, 'archive.volumes', 'each is {volume, label, bytes, files}');
  }
  if (!Array.isArray(a.discards) || !a.discards.every((n) => isCount(n) && n >= 1)) fail(at, 'archive.discards', 'must be a list of volume numbers');
  if (typeof a.compress !== 'boolean') fail(at, 'archive.compress', 'must be true or false');
}

function caps(v: unknown): Caps {
  return typeof v === 'object' && v !== null ? { ...POSIX_CAPS, ...(v as Partial<Caps>) } : { ...POSIX_CAPS };
}

/** Bytes an action copies (a hard link copies none): what --stats and progress count. */
export function copiedBytes(a: Action): number {
  return (a.op === 'copy' || a.op === 'update') && a.link === undefined ? (a.src!.size ?? 0) : 0;
}

export const PLAN: StreamSpec<PlanHeader, Action> = {
  kind: 'plan',
  header(o, at) {
    if (o.mode !== 'mirror' && o.mode !== 'copy' && o.mode !== 'bisync' && o.mode !== 'archive') fail(at, 'mode', 'must be mirror, copy, bisync or archive');
    if (o.mode === 'archive') checkArchive(o.archive, at);
    else if (o.archive !== undefined) fail(at, 'archive', 'only in an archive plan');
    for (const k of ['src', 'dst'] as const) {
      if (typeof o[k] !== 'string' || !((o[k] as string).startsWith('/') || ((o[k] as string).startsWith('s3://') && o.mode !== 'bisync'))) fail(at, k, 'missing or not an absolute path (or, but for --bisync, an s3:// location)');
    }
    const hash = o.hash ?? null;
    if (hash !== null && !HASH_ALGS.includes(hash as HashAlg)) fail(at, 'hash', `must be null or one of ${HASH_ALGS.join(', ')}`);
    const versions = o.versions ?? null;
    if (versions !== null && (typeof versions !== 'string' || pathProblem(versions))) fail(at, 'versions', 'must be null or a relative path');
    return {
      ...(o as object),
      cairn: 'plan',
      version: o.version as number,
      mode: o.mode,
      src: o.src as string,
      dst: o.dst as string,
      src_caps: caps(o.src_caps),
      dst_caps: caps(o.dst_caps),
      hash: hash as HashAlg | null,
      versions: versions as string | null,
      tool: typeof o.tool === 'string' ? o.tool : '',
      created: typeof o.created === 'string' ? o.created : '',
    };
  },
  record(o, at, plan) {
    const op = o.op;
    if (typeof op !== 'string' || !OPS.has(op)) fail(at, 'op', `unknown op ${JSON.stringify(op)} (one of ${PLAN_OPS.join(', ')})`);
    const need = NEEDS[op as PlanOp];
    // "." is the destination root itself: only its attributes can be set.
    if (!(op === 'meta' && o.path === '.')) checkPath(o.path, at, 'path');
    checkRawPath(o.path_b64, at, 'path_b64');
    if (need.src !== (o.src !== undefined)) fail(at, 'src', need.src ? `missing: ${op} needs the source entry` : `not allowed on ${op}`);
    if (o.src !== undefined) validateBody(o.src, at, 'src.');
    if (need.expect === 'yes' && o.expect === undefined) fail(at, 'expect', `missing: ${op} acts on an existing object and needs what the scan saw`);
    if (need.expect === 'no' && o.expect !== undefined) fail(at, 'expect', `not allowed on ${op} (it creates a new object)`);
    if (o.expect !== undefined) validateBody(o.expect, at, 'expect.');
    if (op === 'meta') {
      const set = o.set as Record<string, unknown> | undefined;
      if (typeof set !== 'object' || set === null || Object.keys(set).length === 0) fail(at, 'set', 'meta needs a non-empty object of mode, uid, gid, mtime');
      if (set.mode !== undefined && (typeof set.mode !== 'string' || !/^[0-7]{4}$/.test(set.mode))) fail(at, 'set.mode', 'must be 4 octal digits');
      for (const k of ['uid', 'gid'] as const) {
        if (set[k] !== undefined && !(Number.isInteger(set[k]) && (set[k] as number) >= 0)) fail(at, `set.${k}`, 'must be a non-negative integer');
      }
      if (set.mtime !== undefined && (typeof set.mtime !== 'string' || !isTime(set.mtime))) fail(at, 'set.mtime', 'must be RFC 3339 UTC with 9 fractional digits');
    } else if (o.set !== undefined) fail(at, 'set', `not allowed on ${op}`);
    if (o.link !== undefined) {
      if (op !== 'copy' && op !== 'update' && op !== 'store') fail(at, 'link', `not allowed on ${op}`);
      checkPath(o.link, at, 'link');
    }
    if (op === 'move') {
      checkPath(o.from, at, 'from');
      checkRawPath(o.from_b64, at, 'from_b64');
    } else if (o.from !== undefined) fail(at, 'from', `not allowed on ${op}`);
    if (o.to !== undefined && o.to !== 'a' && o.to !== 'b') fail(at, 'to', 'must be a or b');
    if (o.free_name !== undefined && (op !== 'move' || typeof o.free_name !== 'boolean')) fail(at, 'free_name', 'only true or false, on a move');
    if (o.state !== undefined && o.state !== null) validateBody(o.state, at, 'state.');
    if (op === 'agree' && o.state === undefined) fail(at, 'state', 'missing: agree records what the state keeps for the path (null: nothing)');
    for (const k of ['a', 'b', 'base'] as const) {
      if (o[k] === undefined) continue;
      if (op !== 'conflict') fail(at, k, `not allowed on ${op}`);
      validateBody(o[k], at, `${k}.`);
    }
    if (op === 'conflict' && (typeof o.why !== 'string' || o.why === '')) fail(at, 'why', 'missing: a conflict says why it is one');
    if (o.keep !== undefined && typeof o.keep !== 'boolean') fail(at, 'keep', 'must be true or false');
    const archival = op === 'store' || op === 'tombstone';
    if (archival !== (o.volume !== undefined)) fail(at, 'volume', archival ? `missing: ${op} names its volume` : `not allowed on ${op}`);
    if (archival) {
      if (!(Number.isSafeInteger(o.volume) && (o.volume as number) >= 1)) fail(at, 'volume', 'must be a volume number from 1');
      if (!plan.archive!.volumes.some((v) => v.volume === o.volume)) fail(at, 'volume', `${o.volume} is not a volume of this plan (header archive.volumes)`);
    } else if (plan.mode === 'archive') fail(at, 'op', `${op} is not an archive action (store or tombstone)`);
    if (o.part !== undefined) {
      const part = o.part as Record<string, unknown>;
      if (op !== 'store' || (o.src as { type?: string }).type !== 'file') fail(at, 'part', 'only on the store of a file');
      if (typeof part !== 'object' || part === null || !isCount(part.offset) || !isCount(part.size) || part.size === 0) fail(at, 'part', 'must be {offset, size} with a positive size');
      if ((part.offset as number) + (part.size as number) > ((o.src as { size?: number }).size ?? 0)) fail(at, 'part', 'goes past the end of the file');
    }
    if (op === 'store' && (o.src as { type?: string }).type === 'file' && (o.src as { hash?: string }).hash === undefined) fail(at, 'src.hash', 'a stored file carries its hash');
    const src = o.src as { type?: string } | undefined;
    const kindOk: Partial<Record<PlanOp, (t: string) => boolean>> = {
      mkdir: (t) => t === 'dir',
      copy: (t) => t === 'file',
      update: (t) => t === 'file',
      symlink: (t) => t === 'symlink',
      special: (t) => t === 'fifo' || t === 'socket' || t === 'block' || t === 'char',
      store: (t) => t !== 'socket',
    };
    if (src?.type !== undefined && kindOk[op as PlanOp] && !kindOk[op as PlanOp]!(src.type)) fail(at, 'src.type', `${src.type} cannot be made by ${op}`);
    return o as unknown as Action;
  },
  // Directory times and removals come after their contents: not canonical order.
  ordered: false,
};
