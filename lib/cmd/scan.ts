import { runCommand, type CommandDef } from '../cli/command';
import { UsageError } from '../cli/errors';
import { EXIT } from '../cli/exit-codes';
import type { FlagSpec } from '../cli/flags';
import { HASH_ALGS } from '../records/types';
import { parseHashAlg } from '../cli/values';
import { FILTER_FLAGS, rulesFromFlags } from '../cli/filter-flags';
import { S3_FLAGS, s3FromFlags } from '../cli/s3-flags';

const flags = {
  hash: { type: 'string', arg: 'ALG', help: `hash file contents: ${HASH_ALGS.join(', ')}` },
  reuse: { type: 'string', arg: 'PREV', help: 'take hashes from a previous scan where size, mtime, inode and ctime match' },
  follow: { type: 'boolean', short: 'L', help: 'follow symlinks (default: record them as links)' },
  'one-file-system': { type: 'boolean', short: 'x', help: 'do not enter directories on other filesystems' },
  ...FILTER_FLAGS,
  caps: { type: 'string', arg: 'K=V,...', help: 'override detected capabilities (mtime_precision_ns=2s,perms=false,...)' },
  threads: { type: 'string', arg: 'N', help: 'worker threads for the walk (default: 0 with the compiled lister, else CPUs - 1, 1 to 4)' },
  'newer-than': {
    type: 'string',
    help: '',
    refused: 'not a scan option (a filtered scan looks like deletions downstream); use cairn-plan --newer-than',
  },
  ...S3_FLAGS,
  progress: { type: 'boolean', help: 'report progress on stderr even when it is not a terminal' },
} as const satisfies FlagSpec;

const command: CommandDef<typeof flags> = {
  name: 'scan',
  synopsis: '[OPTIONS] ROOT',
  summary: 'Walk the tree at ROOT and write its entries stream (NDJSON) to stdout.',
  flags,
  async run({ flags: f, given, args }, ctx) {
    if (args.length !== 1) throw new UsageError('', args.length === 0 ? 'missing ROOT (see --help)' : `one ROOT only, got ${args.length}`);
    // An empty ROOT would be the current directory: in a script with an unset variable, the wrong tree.
    if (args[0] === '') throw new UsageError('ROOT', 'empty');
    if (f.reuse === '') throw new UsageError('--reuse', 'empty file name');
    const hash = f.hash !== undefined ? parseHashAlg('--hash', f.hash) : null;
    if ([f.reuse, ...f['exclude-from']].filter((v) => v === '-').length > 1) {
      throw new UsageError('-', 'only one of --reuse and --exclude-from can read stdin');
    }
    let threads: number | undefined;
    if (f.threads !== undefined) {
      threads = Number(f.threads);
      if (!/^\d+$/.test(f.threads) || threads > 64) throw new UsageError(`--threads ${f.threads}`, 'must be a whole number from 0 to 64');
    }
    const rules = await rulesFromFlags(f);
    if (args[0]!.startsWith('s3://')) {
      for (const k of ['reuse', 'follow', 'one-file-system', 'threads'] as const) if (given.has(k)) throw new UsageError(`--${k}`, 'not for an s3:// location');
      const { scanS3 } = await import('../tree/s3/scan');
      const r = await scanS3({
        ...s3FromFlags(f),
        root: args[0]!,
        hash,
        rules,
        ...(f.caps !== undefined ? { caps: f.caps } : {}),
        tool: ctx.tool,
        interrupted: ctx.interrupted,
        warn: ctx.warn,
      });
      return r.problems > 0 ? EXIT.attention : EXIT.ok;
    }
    if (given.has('endpoint') || given.has('jobs')) throw new UsageError(given.has('endpoint') ? '--endpoint' : '--jobs', 'only for an s3:// location');
    const { scan } = await import('../scan/scan');
    const result = await scan({
      root: args[0]!,
      hash,
      follow: f.follow,
      oneFileSystem: f['one-file-system'],
      rules,
      ...(f.caps !== undefined ? { caps: f.caps } : {}),
      ...(f.reuse !== undefined ? { reuse: f.reuse } : {}),
      progress: ctx.progress({ flags: f, given }),
      ...(threads !== undefined ? { threads } : {}),
      tool: ctx.tool,
      interrupted: ctx.interrupted,
      warn: ctx.warn,
    });
    return result.problems > 0 ? EXIT.attention : EXIT.ok;
  },
};

export function main(argv: string[] = process.argv.slice(2)): Promise<never> {
  return runCommand(command, argv);
}
