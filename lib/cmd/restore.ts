import { runCommand, type CommandDef } from '../cli/command';
import { UsageError } from '../cli/errors';
import { EXIT } from '../cli/exit-codes';
import type { FlagSpec } from '../cli/flags';
import { S3_FLAGS, s3FromFlags } from '../cli/s3-flags';

const flags = {
  destination: { type: 'string', short: 'd', arg: 'DIR', help: 'restore into DIR (it must exist)' },
  tar: { type: 'list', arg: 'FILE', help: 'a tar to restore from (repeatable; - is stdin, the default; gzip is detected)' },
  catalog: { type: 'string', arg: 'DIR', help: 'the archive catalog (cairn-plan --archive); the media come from --media or --mounter' },
  media: { type: 'list', arg: 'DIR|TAR', help: 'a medium: a directory holding a volume (a mounted disc) or a volume tar (repeatable)' },
  mounter: { type: 'string', arg: 'CMD', help: 'run CMD DESCRIPTOR for each volume needed; it prints where the medium is mounted' },
  from: { type: 'string', arg: 'DIR|S3|ENTRIES', help: 'restore from a mirror: a directory, an s3:// location, or an entries stream of one' },
  glob: { type: 'list', arg: 'GLOB', help: 'restore what matches GLOB (a directory: its whole subtree); repeatable' },
  regex: { type: 'list', arg: 'RE', help: 'restore what the regular expression matches (on the relative path); repeatable' },
  'as-of': { type: 'string', arg: 'N|TIME', help: 'the tree as it was at volume N, or at TIME (catalog sources)' },
  overwrite: { type: 'string', arg: 'WHEN', help: 'never (the default: an existing different object is kept and reported), older, always' },
  'dry-run': { type: 'boolean', short: 'n', help: 'report what would be restored, write nothing' },
  specials: { type: 'boolean', help: 'restore fifos and device nodes from tars not made by cairn' },
  list: { type: 'boolean', help: 'print what would be restored and from which volume, in the order the media are asked for' },
  ...S3_FLAGS,
} as const satisfies FlagSpec;

const command: CommandDef<typeof flags> = {
  name: 'restore',
  synopsis: '-d DIR [--tar FILE... | --catalog CAT [--media M...|--mounter CMD] | --from MIRROR] [--glob G] [--regex RE] [--as-of N|TIME] [PATH...]',
  summary: 'Restore objects, safely, from tar streams (stdin by default), from archive media with their catalog, or from a mirror, into DIR; results on stdout.',
  flags,
  async run({ flags: f, args }, ctx) {
    const overwrite = f.overwrite ?? 'never';
    if (!['never', 'older', 'always'].includes(overwrite)) throw new UsageError(`--overwrite ${overwrite}`, 'one of never, older, always');
    if (!f.list && f.destination === undefined) throw new UsageError('', 'say where to restore to: -d DIR');
    const sources = [f.tar.length > 0, f.catalog !== undefined || f.media.length > 0 || f.mounter !== undefined, f.from !== undefined].filter(Boolean).length;
    if (sources > 1) throw new UsageError('', 'one kind of source a run: --tar, a catalog (--catalog, --media, --mounter), or --from');
    if (f.media.length > 0 && f.mounter !== undefined) throw new UsageError('--mounter', 'not with --media');
    for (const [k, v] of [['-d', f.destination], ['--catalog', f.catalog], ['--from', f.from], ['--mounter', f.mounter]] as const) {
      if (v === '') throw new UsageError(k, 'empty');
    }
    if (args.some((a) => a === '')) throw new UsageError('PATH', 'empty');
    const { runRestore } = await import('../restore/run');
    const r = await runRestore({
      dest: f.destination ?? '.',
      tars: f.tar,
      ...(f.catalog !== undefined ? { catalog: f.catalog } : {}),
      media: f.media,
      ...(f.mounter !== undefined ? { mounter: f.mounter } : {}),
      ...(f.from !== undefined ? { from: f.from } : {}),
      globs: f.glob,
      regexes: f.regex,
      paths: args,
      ...(f['as-of'] !== undefined ? { asOf: f['as-of'] } : {}),
      overwrite: overwrite as 'never' | 'older' | 'always',
      dryRun: f['dry-run'],
      specials: f.specials,
      list: f.list,
      s3: s3FromFlags(f),
      interrupted: ctx.interrupted,
      tool: ctx.tool,
      warn: ctx.warn,
    });
    return r.attention ? EXIT.attention : EXIT.ok;
  },
};

export function main(argv: string[] = process.argv.slice(2)): Promise<never> {
  return runCommand(command, argv);
}
