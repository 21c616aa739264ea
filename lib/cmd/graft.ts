import { runCommand, type CommandDef } from '../cli/command';
import { UsageError } from '../cli/errors';
import { EXIT } from '../cli/exit-codes';
import type { FlagSpec } from '../cli/flags';

const flags = {
  format: { type: 'string', arg: 'TOOL', help: 'escape the list for xorriso (the default) or genisoimage' },
  spool: { type: 'string', arg: 'DIR', help: 'cut parts of split files out into DIR (needed when the volume holds one)' },
} as const satisfies FlagSpec;

const command: CommandDef<typeof flags> = {
  name: 'graft',
  synopsis: '[--format xorriso|genisoimage] [--spool DIR] [PLAN]',
  summary:
    'Print the graft-points list of one volume of an archive plan (cairn-plan --archive), for `xorriso -as mkisofs -graft-points -path-list -` or genisoimage, and enter the volume in the catalog.',
  flags,
  async run({ flags: f, args }, ctx) {
    if (args.length > 1) throw new UsageError('', `one PLAN only, got ${args.length}`);
    if (args[0] === '') throw new UsageError('PLAN', 'empty');
    const tool = f.format ?? 'xorriso';
    if (tool !== 'xorriso' && tool !== 'genisoimage') throw new UsageError(`--format ${tool}`, 'one of xorriso, genisoimage');
    if (f.spool === '') throw new UsageError('--spool', 'empty');
    const { runGraft } = await import('../graft/run');
    const r = await runGraft({
      input: args[0] ?? '-',
      tool,
      ...(f.spool !== undefined ? { spool: f.spool } : {}),
      toolName: ctx.tool,
      warn: ctx.warn,
    });
    return r.attention ? EXIT.attention : EXIT.ok;
  },
};

export function main(argv: string[] = process.argv.slice(2)): Promise<never> {
  return runCommand(command, argv);
}
