import { UsageError } from './errors';
import type { FlagSpec } from './flags';
import type { FilterRule } from '../records/types';

/** The filter flags of every command that walks a tree (cairn-scan, cairn-diff on a location). */
export const FILTER_FLAGS = {
  exclude: { type: 'list', arg: 'GLOB', help: 'leave out matching paths (repeatable)' },
  include: { type: 'list', arg: 'GLOB', help: 'keep matching paths even if excluded (repeatable)' },
  'exclude-regex': { type: 'list', arg: 'RE', help: 'leave out paths matching a regular expression' },
  'include-regex': { type: 'list', arg: 'RE', help: 'keep paths matching a regular expression' },
  'exclude-from': { type: 'list', arg: 'FILE', help: 'read exclude patterns from FILE (!pattern includes)' },
} as const satisfies FlagSpec;

interface FilterValues {
  exclude: string[];
  include: string[];
  'exclude-regex': string[];
  'include-regex': string[];
  'exclude-from': string[];
}

/** The rules the flags give, in the order rules are applied (files first, then flags). */
export async function rulesFromFlags(f: FilterValues): Promise<FilterRule[]> {
  if (f['exclude-from'].includes('')) throw new UsageError('--exclude-from', 'empty file name');
  const { readExcludeFile } = await import('../filter/exclude-from');
  return [
    ...f['exclude-from'].flatMap(readExcludeFile),
    ...f.exclude.map((exclude) => ({ exclude })),
    ...f.include.map((include) => ({ include })),
    ...f['exclude-regex'].map((exclude_regex) => ({ exclude_regex })),
    ...f['include-regex'].map((include_regex) => ({ include_regex })),
  ];
}
