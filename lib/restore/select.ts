import { compileGlob, compileRegex } from '../filter/rules';

/** Whether a path (relative, `/`-separated, as text) is selected for restore. */
export type Selector = (path: string, isDir: boolean) => boolean;

/**
 * --glob (the patterns of cairn-scan's filters: a name at any depth without
 * `/`, rooted with one), --regex on the relative path, and PATH arguments
 * (the object itself, or everything below a directory). An object is
 * selected when any of them matches it or a directory above it: a
 * directory's match takes its whole subtree. Nothing given: everything.
 */
export function compileSelector(globs: readonly string[], regexes: readonly string[], paths: readonly string[]): Selector {
  const tests = [...globs.map((g) => compileGlob(g, '--glob')), ...regexes.map((r) => compileRegex(r, '--regex'))];
  const exact = paths.map((p) => p.replace(/^\.?\/+/, '').replace(/\/+$/, ''));
  if (tests.length === 0 && exact.length === 0) return () => true;
  const one = (path: string, isDir: boolean): boolean => {
    const slash = path.lastIndexOf('/');
    const name = slash < 0 ? path : path.slice(slash + 1);
    return tests.some((t) => t(path, name, isDir)) || exact.includes(path);
  };
  return (path, isDir) => {
    if (one(path, isDir)) return true;
    for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) if (one(path.slice(0, i), true)) return true;
    return false;
  };
}
