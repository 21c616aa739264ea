import { runCommand, type CommandDef } from '../cli/command';
import { UsageError } from '../cli/errors';
import { EXIT } from '../cli/exit-codes';
import type { FlagSpec } from '../cli/flags';

const flags = {
  output: { type: 'string', short: 'o', arg: 'FILE', help: "write to FILE instead of stdout; with %d (vol-%04d.tar) every volume of the plan, each to its own file" },
  gzip: { type: 'boolean', short: 'z', help: 'compress with gzip' },
} as const satisfies FlagSpec;

const command: CommandDef<typeof flags> = {
  name: 'pack',
  synopsis: '[-z] [-o FILE] [PLAN|ENTRIES]',
  summary:
    'Write a volume of an archive plan (cairn-plan --archive --format tar) as a POSIX pax tar, its catalog in .cairn/ first, and enter it in the catalog; or an entries stream as a plain tar.',
  flags,
  async run({ flags: f, args }, ctx) {
    if (args.length > 1) throw new UsageError('', `one input only, got ${args.length}`);
    if (args[0] === '') throw new UsageError('PLAN', 'empty');
    if (f.output === '') throw new UsageError('-o', 'empty');
    if (f.output === undefined && process.stdout.isTTY) throw new UsageError('', 'will not write a tar to a terminal: redirect stdout or give -o FILE');
    const { runPack } = await import('../pack/run');
    const r = await runPack({
      input: args[0] ?? '-',
      ...(f.output !== undefined ? { output: f.output } : {}),
      gzip: f.gzip,
      tool: ctx.tool,
      warn: ctx.warn,
      interrupted: ctx.interrupted,
    });
    return r.attention ? EXIT.attention : EXIT.ok;
  },
};

export function main(argv: string[] = process.argv.slice(2)): Promise<never> {
  return runCommand(command, argv);
}
