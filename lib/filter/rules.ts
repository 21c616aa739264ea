import type picomatchFn from 'picomatch';
import { UsageError } from '../cli/errors';
import type { FilterRule } from '../records/types';

/** Decides, during a walk, whether a path is left out (and, for a directory, not entered). */
export interface Filter {
  readonly rules: readonly FilterRule[];
  excludes(path: string, isDir: boolean): boolean;
}

type Test = (path: string, name: string, isDir: boolean) => boolean;

/**
 * One glob, rsync-style: without `/` it matches a name at any depth; with `/`
 * it is rooted at the tree's root (a leading `/` is allowed); a trailing `/`
 * restricts it to directories; `**` crosses directories. Dot files are
 * matched like any other name. picomatch's own basename mode also applies to
 * patterns that contain `/` (DESIGN.md traps), so the split is made here.
 */
export function compileGlob(pattern: string, flag: string): Test {
  if (pattern === '' || pattern === '/') throw new UsageError(flag, 'empty pattern');
  let p = pattern;
  const dirOnly = p.endsWith('/');
  if (dirOnly) p = p.replace(/\/+$/, '');
  const rooted = p.includes('/');
  if (rooted) p = p.replace(/^\/+/, '');
  let isMatch: (s: string) => boolean;
  try {
    // Loaded on first use: most scans have no globs, and each worker thread pays the load.
    const picomatch = require('picomatch') as typeof picomatchFn;
    isMatch = picomatch(p, { dot: true, nonegate: true });
  } catch (err) {
    throw new UsageError(flag, `bad pattern ${JSON.stringify(pattern)}: ${(err as Error).message}`);
  }
  if (rooted) return (path, _name, isDir) => (!dirOnly || isDir) && isMatch(path);
  return (_path, name, isDir) => (!dirOnly || isDir) && isMatch(name);
}

export function compileRegex(source: string, flag: string): Test {
  let re: RegExp;
  try {
    re = new RegExp(source, 'u');
  } catch (err) {
    throw new UsageError(flag, `bad regular expression: ${(err as Error).message}`);
  }
  return (path) => re.test(path);
}

function compileRule(rule: FilterRule): { include: boolean; test: Test } {
  if ('exclude' in rule) return { include: false, test: compileGlob(rule.exclude, '--exclude') };
  if ('include' in rule) return { include: true, test: compileGlob(rule.include, '--include') };
  if ('exclude_regex' in rule) return { include: false, test: compileRegex(rule.exclude_regex, '--exclude-regex') };
  return { include: true, test: compileRegex(rule.include_regex, '--include-regex') };
}

/** An include wins over any exclude; a path no exclude matches is kept. */
export function compileFilter(rules: readonly FilterRule[]): Filter {
  const compiled = rules.map(compileRule);
  const excludes = compiled.filter((r) => !r.include).map((r) => r.test);
  const includes = compiled.filter((r) => r.include).map((r) => r.test);
  if (excludes.length === 0) return { rules, excludes: () => false };
  return {
    rules,
    excludes(path, isDir) {
      const slash = path.lastIndexOf('/');
      const name = slash < 0 ? path : path.slice(slash + 1);
      if (!excludes.some((t) => t(path, name, isDir))) return false;
      return !includes.some((t) => t(path, name, isDir));
    },
  };
}
