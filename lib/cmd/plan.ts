import { runCommand, type CommandDef } from '../cli/command';
import { UsageError } from '../cli/errors';
import { EXIT } from '../cli/exit-codes';
import type { FlagSpec } from '../cli/flags';
import { parseTimeFlag } from '../cli/values';
import type { Prefer } from '../plan/bisync';

const flags = {
  mirror: { type: 'boolean', help: 'make the destination equal to the source (extra objects deleted)' },
  copy: { type: 'boolean', help: 'copy new and changed objects; delete nothing' },
  bisync: { type: 'boolean', help: 'two-way: carry each side\'s changes to the other, report conflicts (needs cairn-diff --base)' },
  prefer: { type: 'string', arg: 'RULE', help: 'with --bisync: settle conflicts by newer, older, a, b or larger, keeping the loser as NAME.conflict-SIDE-TIME.EXT' },
  'max-delete': { type: 'string', arg: 'N|N%|off', help: 'refuse the plan if it deletes more (default for --mirror, and per side for --bisync: 50%)' },
  'newer-than': { type: 'string', arg: 'TIME', help: 'copy only files modified after TIME (older ones are left, not deleted)' },
  'lazy-mkdir': { type: 'boolean', help: 'create a directory only when a file goes into it' },
  kill: { type: 'list', arg: 'GLOB', help: 'delete matching files on the destination, and never copy them (needs diff --all)' },
  versions: { type: 'boolean', help: 'keep replaced and deleted objects under .cairn-versions/<path>.<N>' },
  force: { type: 'boolean', help: 'rewrite every file whatever the comparison says (needs diff --all); --bisync: go on when every file of a side looks changed' },
  moves: { type: 'boolean', help: 'with --mirror: turn a removal plus an addition of the same file (hash, or size+mtime+name) into a move' },
  stats: { type: 'boolean', help: 'print a one-line summary on stderr' },
} as const satisfies FlagSpec;

const command: CommandDef<typeof flags> = {
  name: 'plan',
  synopsis: '--mirror|--copy|--bisync [OPTIONS] [CHANGES]',
  summary: 'Read a changes stream (file or stdin) and write the plan that syncs the destination (B) from the source (A), or both ways (--bisync).',
  flags,
  async run({ flags: f, args }, ctx) {
    const modes = (['mirror', 'copy', 'bisync'] as const).filter((m) => f[m]);
    if (modes.length !== 1) throw new UsageError('', modes.length > 1 ? `--${modes.join(' and --')} exclude each other` : 'say --mirror, --copy or --bisync');
    const mode = modes[0]!;
    if (args.length > 1) throw new UsageError('', `one CHANGES input only, got ${args.length}`);
    if (args[0] === '') throw new UsageError('CHANGES', 'empty');
    const { parseMaxDelete, runPlan } = await import('../plan/run');
    const maxDelete = f['max-delete'] !== undefined ? parseMaxDelete(f['max-delete']) : mode !== 'copy' ? { percent: 50 } : undefined;
    const { PREFERS } = await import('../plan/bisync');
    if (f.prefer !== undefined && (mode !== 'bisync' || !PREFERS.includes(f.prefer as never))) {
      throw new UsageError(`--prefer ${f.prefer}`, mode !== 'bisync' ? 'only with --bisync' : `one of ${PREFERS.join(', ')}`);
    }
    for (const k of ['newer-than', 'lazy-mkdir', 'kill', 'versions', 'moves'] as const) {
      const on = Array.isArray(f[k]) ? (f[k] as string[]).length > 0 : f[k] !== undefined && f[k] !== false;
      if (mode === 'bisync' && on) throw new UsageError(`--${k}`, 'not with --bisync');
    }
    const newerThan = f['newer-than'] !== undefined ? parseTimeFlag('--newer-than', f['newer-than']) : undefined;
    if (f.kill.includes('')) throw new UsageError('--kill', 'empty pattern');
    if (f.moves && !f.mirror) throw new UsageError('--moves', 'only with --mirror (--copy removes nothing to move)');
    const r = await runPlan({
      input: args[0] ?? '-',
      mode,
      ...(f.prefer !== undefined ? { prefer: f.prefer as Prefer } : {}),
      ...(maxDelete !== undefined ? { maxDelete } : {}),
      ...(newerThan !== undefined ? { newerThan } : {}),
      lazyMkdir: f['lazy-mkdir'],
      kill: f.kill,
      versions: f.versions,
      force: f.force,
      moves: f.moves,
      stats: f.stats,
      tool: ctx.tool,
      interrupted: ctx.interrupted,
      warn: ctx.warn,
    });
    return r.refused ? EXIT.attention : EXIT.ok;
  },
};

export function main(argv: string[] = process.argv.slice(2)): Promise<never> {
  return runCommand(command, argv);
}
