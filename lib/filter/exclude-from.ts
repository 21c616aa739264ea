import * as fs from 'node:fs';
import { UsageError, describeSystemError } from '../cli/errors';
import type { FilterRule } from '../records/types';

/**
 * Rules from an exclude file: one glob a line, `#` starts a comment line,
 * blank lines are skipped, `!pattern` re-includes. Trailing spaces are part
 * of the pattern only when escaped (`\ `), as in .gitignore.
 */
export function parseExcludeFile(text: string): FilterRule[] {
  const rules: FilterRule[] = [];
  for (const raw of text.split('\n')) {
    let line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '' || line.startsWith('#')) continue;
    line = line.replace(/(?<!\\) +$/, '').replace(/\\ $/, ' ');
    if (line.startsWith('!')) rules.push({ include: line.slice(1) });
    else rules.push({ exclude: line.startsWith('\\!') || line.startsWith('\\#') ? line.slice(1) : line });
  }
  return rules;
}

export function readExcludeFile(file: string): FilterRule[] {
  let text: string;
  try {
    text = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new UsageError(`--exclude-from ${file}`, describeSystemError(err));
  }
  return parseExcludeFile(text);
}
