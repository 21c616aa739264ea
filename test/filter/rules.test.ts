import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../lib/cli/errors';
import { parseExcludeFile } from '../../lib/filter/exclude-from';
import { compileFilter } from '../../lib/filter/rules';
import type { FilterRule } from '../../lib/records/types';

function kept(rules: FilterRule[], paths: Array<[string, boolean]>): string[] {
  const f = compileFilter(rules);
  return paths.filter(([p, isDir]) => !f.excludes(p, isDir)).map(([p]) => p);
}

const FILES: Array<[string, boolean]> = [
  ['a.o', false],
  ['src', true],
  ['src/a.o', false],
  ['src/main.c', false],
  ['src/.git', true],
  ['.git', true],
  ['build', true],
  ['lib/build', false],
  ['docs/x/build', true],
];

test('a pattern without / matches a name at any depth, dot files included', () => {
  assert.deepEqual(kept([{ exclude: '*.o' }], FILES).filter((p) => p.endsWith('.o')), []);
  assert.deepEqual(kept([{ exclude: '.git' }], FILES).filter((p) => p.includes('.git')), []);
  assert.deepEqual(kept([{ exclude: '*' }], FILES), []);
});

test('a pattern with / is rooted; a leading / is allowed', () => {
  assert.deepEqual(kept([{ exclude: 'src/*.o' }], FILES), FILES.map(([p]) => p).filter((p) => p !== 'src/a.o'));
  assert.deepEqual(kept([{ exclude: '/build' }], FILES).includes('lib/build'), true);
  assert.deepEqual(kept([{ exclude: '/build' }], FILES).includes('build'), false);
});

test('a trailing / matches directories only', () => {
  const out = kept([{ exclude: 'build/' }], FILES);
  assert.ok(out.includes('lib/build'));
  assert.ok(!out.includes('build'));
  assert.ok(!out.includes('docs/x/build'));
});

test('** crosses directories', () => {
  const out = kept([{ exclude: 'docs/**/build' }], FILES);
  assert.ok(!out.includes('docs/x/build'));
  assert.ok(out.includes('build'));
});

test('include wins over exclude whatever the order', () => {
  const rules: FilterRule[] = [{ include: '*.c' }, { exclude: 'src/*' }];
  assert.deepEqual(kept(rules, FILES).filter((p) => p.startsWith('src/')), ['src/main.c']);
});

test('regular expressions apply to the relative path', () => {
  assert.deepEqual(kept([{ exclude_regex: '^src/.*\\.[oc]$' }], FILES).filter((p) => p.startsWith('src/')), ['src/.git']);
  assert.deepEqual(kept([{ exclude_regex: '.' }, { include_regex: '^\\.git$' }], FILES), ['.git']);
});

test('bad patterns are usage errors', () => {
  assert.throws(() => compileFilter([{ exclude_regex: '(' }]), UsageError);
  assert.throws(() => compileFilter([{ exclude: '' }]), UsageError);
});

test('exclude files: comments, blanks, ! re-includes, escaped trailing space, CRLF', () => {
  const rules = parseExcludeFile('# build output\n*.o\n\n!keep.o\nname\\ \ntrailing   \r\n\\#hash\n\\!bang\n');
  assert.deepEqual(rules, [{ exclude: '*.o' }, { include: 'keep.o' }, { exclude: 'name ' }, { exclude: 'trailing' }, { exclude: '#hash' }, { exclude: '!bang' }]);
});
