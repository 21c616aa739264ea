import { runCommand, type CommandDef } from '../cli/command';
import { UsageError } from '../cli/errors';
import { EXIT } from '../cli/exit-codes';
import { FILTER_FLAGS, rulesFromFlags } from '../cli/filter-flags';
import { S3_FLAGS, s3FromFlags } from '../cli/s3-flags';
import type { FlagSpec } from '../cli/flags';
import { parseDurationNs, parseHashAlg } from '../cli/values';
import { ATTRS, HASH_ALGS, type Attr } from '../records/types';

const flags = {
  base: { type: 'string', arg: 'STATE', help: 'three-way: what each side did since the state of the last two-way sync (a missing file: the first run)' },
  normalization: { type: 'string', arg: 'on|off', help: 'with --base: names equal after NFC are one name when a side normalizes (default on)' },
  all: { type: 'boolean', help: 'also write a `same` record for every path that does not differ' },
  check: { type: 'boolean', help: 'write only the differences, one line each; exit 1 if there are any' },
  checksum: {
    type: 'string',
    short: 'c',
    arg: 'all',
    optional: 'ambiguous',
    help: 'decide by content: hash equal-size files whose mtimes differ (=all: every equal-size pair)',
  },
  'modify-window': { type: 'string', arg: 'DUR', help: 'mtimes this close are equal (2s, 1h, 500ms; default: the coarser side)' },
  'ignore-hour-shift': { type: 'boolean', help: 'an mtime off by exactly one hour, size equal, is equal (FAT and DST)' },
  'size-only': { type: 'boolean', help: 'do not compare times (sizes, modes, owners still count)' },
  ignore: { type: 'list', arg: 'ATTR,...', help: `attributes not to compare: ${ATTRS.filter((a) => a !== 'type').join(', ')}` },
  hash: { type: 'string', arg: 'ALG', help: `hash files while scanning a location side: ${HASH_ALGS.join(', ')}` },
  ...FILTER_FLAGS,
  follow: { type: 'boolean', short: 'L', help: 'follow symlinks when scanning a location' },
  'one-file-system': { type: 'boolean', short: 'x', help: 'stay on one filesystem when scanning a location' },
  'caps-a': { type: 'string', arg: 'K=V,...', help: 'override the capabilities of side A (scanned or read)' },
  'caps-b': { type: 'string', arg: 'K=V,...', help: 'override the capabilities of side B (scanned or read)' },
  ...S3_FLAGS,
} as const satisfies FlagSpec;

const command: CommandDef<typeof flags> = {
  name: 'diff',
  synopsis: '[OPTIONS] A B',
  summary: 'Compare two trees (entries streams, `-`, directories or s3:// locations), or both against a base (--base), and write a changes stream.',
  flags,
  async run({ flags: f, args }, ctx) {
    if (args.length !== 2) throw new UsageError('', args.length < 2 ? 'needs two sides, A and B (see --help)' : `two sides only, got ${args.length}`);
    if (args.includes('')) throw new UsageError('A/B', 'empty');
    if (args[0] === '-' && args[1] === '-') throw new UsageError('-', 'only one side can read stdin');
    if (f.checksum !== undefined && f.checksum !== 'ambiguous' && f.checksum !== 'all') {
      throw new UsageError(`--checksum=${f.checksum}`, 'the only value is all (bare --checksum hashes only where mtimes differ)');
    }
    const hash = f.hash !== undefined ? parseHashAlg('--hash', f.hash) : null;
    const ignore: Attr[] = [];
    for (const word of f.ignore.flatMap((v) => v.split(','))) {
      const attr = word === 'owners' ? 'owner' : word === 'perms' ? 'mode' : word;
      if (!ATTRS.includes(attr as Attr) || attr === 'type') throw new UsageError(`--ignore ${word}`, `not an attribute (${ATTRS.filter((a) => a !== 'type').join(', ')})`);
      ignore.push(attr as Attr);
    }
    const modifyWindowNs = f['modify-window'] !== undefined ? Math.max(1, parseDurationNs('--modify-window', f['modify-window'])) : undefined;
    const rules = await rulesFromFlags(f);
    // Checked here, before anything is read, under the flag's own name.
    const { overrideCaps } = await import('../tree/local/caps');
    const { POSIX_CAPS } = await import('../records/entries');
    if (f['caps-a'] !== undefined) overrideCaps(POSIX_CAPS, f['caps-a'], '--caps-a');
    if (f['caps-b'] !== undefined) overrideCaps(POSIX_CAPS, f['caps-b'], '--caps-b');
    const { runDiff } = await import('../diff/run');
    if (f.base === '') throw new UsageError('--base', 'empty');
    if (f.normalization !== undefined && f.normalization !== 'on' && f.normalization !== 'off') throw new UsageError(`--normalization ${f.normalization}`, 'on or off');
    if (f.normalization !== undefined && f.base === undefined) throw new UsageError('--normalization', 'only with --base');
    const r = await runDiff({
      a: args[0]!,
      b: args[1]!,
      ...(f.base !== undefined ? { base: f.base } : {}),
      normalization: f.normalization !== 'off',
      check: f.check,
      all: f.all,
      compare: {
        ...(modifyWindowNs !== undefined ? { modifyWindowNs } : {}),
        ignoreHourShift: f['ignore-hour-shift'],
        sizeOnly: f['size-only'],
        checksum: (f.checksum as 'ambiguous' | 'all' | undefined) ?? 'off',
        ignore,
      },
      scan: {
        rules,
        hash,
        follow: f.follow,
        oneFileSystem: f['one-file-system'],
        tool: ctx.tool,
        warn: ctx.warn,
        s3: s3FromFlags(f),
        interrupted: ctx.interrupted,
      },
      capsA: f['caps-a'],
      capsB: f['caps-b'],
      interrupted: ctx.interrupted,
    });
    if (f.check && r.differences > 0) return EXIT.attention;
    return r.problems > 0 ? EXIT.attention : EXIT.ok;
  },
};

export function main(argv: string[] = process.argv.slice(2)): Promise<never> {
  return runCommand(command, argv);
}
