import { InputError } from '../cli/errors';
import { pathProblem, validateBody, validateEntriesHeader } from './entries';
import type { Loc, StreamSpec } from './stream-reader';
import { ATTRS, CHANGE_KINDS, SIDE_CHANGES, type Attr, type Change, type ChangesHeader, type CompareSettings, type EntriesHeader } from './types';

function fail(at: Loc, field: string | undefined, why: string): never {
  throw new InputError(at.file, at.line, field, why);
}

const KINDS = new Set<string>(CHANGE_KINDS);
const ATTR_SET = new Set<string>(ATTRS);

function nestedHeader(v: unknown, at: Loc, field: string): EntriesHeader {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(at, field, 'must be an entries header object');
  try {
    return validateEntriesHeader(v as Record<string, unknown>, at);
  } catch (err) {
    if (err instanceof InputError) fail(at, `${field}.${err.field ?? ''}`.replace(/\.$/, ''), err.why.replace(/^[^:]*: /, ''));
    throw err;
  }
}

function checkCompare(v: unknown, at: Loc): CompareSettings {
  if (typeof v !== 'object' || v === null) fail(at, 'compare', 'must be an object');
  const c = v as Partial<CompareSettings>;
  if (!Number.isInteger(c.mtime_window_ns) || (c.mtime_window_ns as number) < 1) fail(at, 'compare.mtime_window_ns', 'must be a positive integer');
  for (const k of ['perms', 'owners', 'symlinks', 'hardlinks', 'ignore_hour_shift', 'size_only'] as const) {
    if (typeof c[k] !== 'boolean') fail(at, `compare.${k}`, 'must be true or false');
  }
  if (c.checksum !== 'off' && c.checksum !== 'ambiguous' && c.checksum !== 'all') fail(at, 'compare.checksum', 'must be off, ambiguous or all');
  if (!Array.isArray(c.ignore) || c.ignore.some((a) => !ATTR_SET.has(a))) fail(at, 'compare.ignore', `must be a list of ${ATTRS.join(', ')}`);
  return c as CompareSettings;
}

export const CHANGES: StreamSpec<ChangesHeader, Change> = {
  kind: 'changes',
  header(o, at) {
    return {
      ...(o as object),
      cairn: 'changes',
      version: o.version as number,
      a: nestedHeader(o.a, at, 'a'),
      b: nestedHeader(o.b, at, 'b'),
      base: o.base === undefined || o.base === null ? null : nestedHeader(o.base, at, 'base'),
      compare: checkCompare(o.compare, at),
      all: o.all === true,
      tool: typeof o.tool === 'string' ? o.tool : '',
      created: typeof o.created === 'string' ? o.created : '',
    };
  },
  record(o, at) {
    const p = o.path;
    if (typeof p !== 'string') fail(at, 'path', 'missing or not a string');
    const bad = pathProblem(p);
    if (bad) fail(at, 'path', bad);
    if (o.path_b64 !== undefined && typeof o.path_b64 !== 'string') fail(at, 'path_b64', 'must be base64');
    const kind = o.change;
    if (typeof kind !== 'string' || !KINDS.has(kind)) fail(at, 'change', `must be one of ${CHANGE_KINDS.join(', ')}`);
    const needA = kind !== 'b-only' && kind !== 'base-only';
    const needB = kind !== 'a-only' && kind !== 'base-only';
    if (needA !== (o.a !== undefined)) fail(at, 'a', needA ? `missing (a ${kind} record needs side a)` : `not allowed on a ${kind} record`);
    if (needB !== (o.b !== undefined)) fail(at, 'b', needB ? `missing (a ${kind} record needs side b)` : `not allowed on a ${kind} record`);
    if (o.a !== undefined) validateBody(o.a, at, 'a.');
    if (o.b !== undefined) validateBody(o.b, at, 'b.');
    if (o.base !== undefined) validateBody(o.base, at, 'base.');
    else if (kind === 'base-only') fail(at, 'base', 'missing (a base-only record needs the base entry)');
    for (const k of ['a_change', 'b_change'] as const) {
      if (o[k] !== undefined && !SIDE_CHANGES.includes(o[k] as never)) fail(at, k, `must be one of ${SIDE_CHANGES.join(', ')}`);
    }
    if (o.renamed !== undefined) {
      const r = o.renamed as { side?: unknown; from?: unknown };
      if (typeof r !== 'object' || r === null || (r.side !== 'a' && r.side !== 'b') || typeof r.from !== 'string' || pathProblem(r.from)) {
        fail(at, 'renamed', 'must be {"side":"a"|"b","from":PATH}');
      }
    }
    if (o.conflict !== undefined && (typeof o.conflict !== 'string' || o.conflict === '')) fail(at, 'conflict', 'must be a non-empty string');
    if (kind === 'differ') {
      const attrs = o.attrs;
      if (!Array.isArray(attrs) || attrs.length === 0 || attrs.some((x) => !ATTR_SET.has(x as string))) {
        fail(at, 'attrs', `a differ record needs a non-empty list of ${ATTRS.join(', ')}`);
      }
    } else if (o.attrs !== undefined) fail(at, 'attrs', `not allowed on a ${kind} record`);
    return o as unknown as Change;
  },
  ordered: true,
};

export type { Attr };
