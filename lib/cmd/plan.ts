import { runCommand, type CommandDef, type Context } from '../cli/command';
import { UsageError } from '../cli/errors';
import { EXIT, type ExitCode } from '../cli/exit-codes';
import type { FlagSpec, FlagValues } from '../cli/flags';
import { parseCount, parseTimeFlag } from '../cli/values';
import type { MediumFormat } from '../records/types';
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
  archive: { type: 'boolean', help: 'store what the catalog lacks on the next volume (needs --catalog, --medium-size; reads ENTRIES)' },
  catalog: { type: 'string', arg: 'DIR', help: 'with --archive: the catalog directory (one descriptor per volume)' },
  'medium-size': { type: 'string', arg: 'SIZE', help: 'with --archive: bytes per medium (4.7G, 700Mi, cd, dvd, dvd-dl, bd, bd-dl)' },
  format: { type: 'string', arg: 'FMT', help: 'with --archive: iso (cairn-graft, the default), tar (cairn-pack) or dir (cairn-apply --dst)' },
  volumes: { type: 'string', arg: 'N', help: 'with --archive: plan N volumes (default 1)' },
  sort: { type: 'string', arg: 'ORDER', help: 'with --archive: time (oldest first, the default) or alpha' },
  discard: { type: 'list', arg: 'N', help: 'with --archive: count volume N as lost; its objects are planned again' },
  compress: { type: 'boolean', help: 'with --archive: write the descriptors gzip-compressed' },
  verbose: { type: 'boolean', help: 'with --archive --stats: list what waits' },
  stats: { type: 'boolean', help: 'print a one-line summary on stderr; with --archive: what waits and how many media it needs, on stdout, instead of a plan' },
} as const satisfies FlagSpec;

const command: CommandDef<typeof flags> = {
  name: 'plan',
  synopsis: '--mirror|--copy|--bisync [OPTIONS] [CHANGES]  |  --archive --catalog DIR --medium-size SIZE [OPTIONS] [ENTRIES]',
  summary: 'Read a changes stream (file or stdin) and write the plan that syncs the destination (B) from the source (A), or both ways (--bisync); or read an entries stream and plan the next archive volume (--archive).',
  flags,
  async run({ flags: f, args }, ctx) {
    const modes = (['mirror', 'copy', 'bisync', 'archive'] as const).filter((m) => f[m]);
    if (modes.length !== 1) throw new UsageError('', modes.length > 1 ? `--${modes.join(' and --')} exclude each other` : 'say --mirror, --copy, --bisync or --archive');
    const mode = modes[0]!;
    if (args.length > 1) throw new UsageError('', `one ${mode === 'archive' ? 'ENTRIES' : 'CHANGES'} input only, got ${args.length}`);
    if (args[0] === '') throw new UsageError(mode === 'archive' ? 'ENTRIES' : 'CHANGES', 'empty');
    const archiveOnly = ['catalog', 'medium-size', 'format', 'volumes', 'sort', 'discard', 'compress', 'verbose'] as const;
    if (mode === 'archive') return archive(f, args[0] ?? '-', ctx);
    for (const k of archiveOnly) {
      const on = Array.isArray(f[k]) ? (f[k] as string[]).length > 0 : f[k] !== undefined && f[k] !== false;
      if (on) throw new UsageError(`--${k}`, 'only with --archive');
    }
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

async function archive(f: FlagValues<typeof flags>, input: string, ctx: Context): Promise<ExitCode> {
  for (const k of ['prefer', 'max-delete', 'newer-than', 'lazy-mkdir', 'kill', 'versions', 'force', 'moves'] as const) {
    const on = Array.isArray(f[k]) ? (f[k] as string[]).length > 0 : f[k] !== undefined && f[k] !== false;
    if (on) throw new UsageError(`--${k}`, 'not with --archive');
  }
  if (f.catalog === undefined) throw new UsageError('--archive', 'needs --catalog DIR');
  if (f['medium-size'] === undefined) throw new UsageError('--archive', 'needs --medium-size SIZE');
  const { parseMediumSize } = await import('../archive/medium-size');
  const format = f.format ?? 'iso';
  if (!['iso', 'tar', 'dir'].includes(format)) throw new UsageError(`--format ${format}`, 'one of iso, tar, dir');
  const sort = f.sort ?? 'time';
  if (sort !== 'time' && sort !== 'alpha') throw new UsageError(`--sort ${sort}`, 'one of time, alpha');
  if (f.verbose && !f.stats) throw new UsageError('--verbose', 'only with --stats');
  const { planArchive } = await import('../plan/archive-run');
  const r = await planArchive({
    input,
    catalog: f.catalog,
    mediumSize: parseMediumSize('--medium-size', f['medium-size']),
    format: format as MediumFormat,
    volumes: f.volumes !== undefined ? Math.max(1, parseCount('--volumes', f.volumes, 100000)) : 1,
    sort,
    discard: f.discard.map((n) => parseCount('--discard', n, 1e9)),
    compress: f.compress,
    stats: f.stats,
    verbose: f.verbose,
    tool: ctx.tool,
    warn: ctx.warn,
  });
  void r;
  return EXIT.ok;
}

export function main(argv: string[] = process.argv.slice(2)): Promise<never> {
  return runCommand(command, argv);
}
