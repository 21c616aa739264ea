import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../lib/cli/errors';
import { parseFlags, type FlagSpec } from '../../lib/cli/flags';

const spec = {
  hash: { type: 'string', arg: 'ALG', help: '' },
  exclude: { type: 'list', arg: 'GLOB', help: '' },
  follow: { type: 'boolean', short: 'L', help: '' },
  'one-file-system': { type: 'boolean', short: 'x', help: '' },
  output: { type: 'string', short: 'o', help: '' },
} as const satisfies FlagSpec;

const usage = (argv: string[], message: string) =>
  assert.throws(() => parseFlags(argv, spec), (err: unknown) => err instanceof UsageError && err.message === message);

test('values, lists, booleans and positionals', () => {
  const p = parseFlags(['--hash', 'sha256', 'dir', '--exclude=*.o', '--exclude', '.git/', '-Lx', '-o', 'out'], spec);
  assert.deepEqual(p.args, ['dir']);
  assert.equal(p.flags.hash, 'sha256');
  assert.deepEqual(p.flags.exclude, ['*.o', '.git/']);
  assert.equal(p.flags.follow, true);
  assert.equal(p.flags['one-file-system'], true);
  assert.equal(p.flags.output, 'out');
});

test('a boolean flag does not swallow the next word, numbers stay strings', () => {
  const p = parseFlags(['--follow', '0755', '--hash', '007'], spec);
  assert.deepEqual(p.args, ['0755']);
  assert.equal(p.flags.hash, '007');
  assert.equal(parseFlags(['--no-follow'], spec).flags.follow, false);
});

test('- means stdin, as a positional and as a value; -- ends options', () => {
  const p = parseFlags(['-', '--hash', '-', '--', '--follow', '-'], spec);
  assert.deepEqual(p.args, ['-', '--follow', '-']);
  assert.equal(p.flags.hash, '-');
  assert.equal(p.flags.follow, false);
});

test('empty values stay empty and do not swallow the next word; given records what appeared', () => {
  const p = parseFlags(['--hash', '', 'dir', '--exclude=', 'x'], spec);
  assert.equal(p.flags.hash, '');
  assert.deepEqual(p.flags.exclude, ['']);
  assert.deepEqual(p.args, ['dir', 'x']);
  assert.deepEqual([...parseFlags(['--no-follow', '-x'], spec).given].sort(), ['follow', 'one-file-system']);
});

test('unknown flags and missing values are one-line usage errors with a suggestion', () => {
  usage(['--exlude', 'x'], '--exlude: unknown option (did you mean --exclude?)');
  usage(['--frobnicate'], '--frobnicate: unknown option');
  usage(['-q'], '-q: unknown option');
  usage(['--hash'], '--hash: option needs a value');
  usage(['--hash', '--follow'], '--hash: option needs a value');
  usage(['-o'], '-o: option needs a value');
  usage(['-oL', 'x'], '-o: option needs a value');
  usage(['--follow=yes'], '--follow: option takes no value');
});

test('messages stay on one line whatever the names hold', async () => {
  const { oneLine } = await import('../../lib/cli/errors');
  assert.equal(oneLine('bad\nname: EACCES: permission denied'), 'bad\\nname: EACCES: permission denied');
  assert.equal(oneLine('tab\there\u007f'), 'tab\\there\\u007f');
});
