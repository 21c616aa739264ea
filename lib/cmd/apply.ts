import { runCommand, type CommandDef } from '../cli/command';
import { UsageError } from '../cli/errors';
import { EXIT } from '../cli/exit-codes';
import type { FlagSpec } from '../cli/flags';
import { parseCount, parseDurationNs } from '../cli/values';
import { S3_FLAGS, s3FromFlags } from '../cli/s3-flags';

const flags = {
  'dry-run': { type: 'boolean', short: 'n', help: 'check every action (stale or not) but change nothing' },
  src: { type: 'string', arg: 'DIR', help: "read from DIR (or s3://...) instead of the plan's source root (bisync: side a's root)" },
  dst: { type: 'string', arg: 'DIR', help: "act on DIR (or s3://...) instead of the plan's destination root (bisync: side b's root)" },
  verify: { type: 'boolean', help: 'hash every written file (object: read it back) and compare it with the source' },
  fsync: { type: 'boolean', help: 'sync every new file before it is put in place (replaced files always are)' },
  retry: { type: 'string', arg: 'N', help: 'try an action that failed with a transient error N more times' },
  progress: { type: 'boolean', help: 'report progress on stderr even when it is not a terminal' },
  state: { type: 'string', arg: 'FILE', help: 'bisync: bring the state file of the pair up to date with what was done (locked while running)' },
  checkpoint: { type: 'string', arg: 'DUR', help: 'with --state: write the state this often during a long run (default 60s)' },
  ...S3_FLAGS,
} as const satisfies FlagSpec;

const command: CommandDef<typeof flags> = {
  name: 'apply',
  synopsis: '[OPTIONS] [PLAN]',
  summary: 'Carry out a plan (file or stdin) and write a results stream: every action with its status.',
  flags,
  async run({ flags: f, given, args }, ctx) {
    if (args.length > 1) throw new UsageError('', `one PLAN only, got ${args.length}`);
    if (args[0] === '') throw new UsageError('PLAN', 'empty');
    if (f.src === '' || f.dst === '') throw new UsageError(f.src === '' ? '--src' : '--dst', 'empty');
    const retry = f.retry !== undefined ? parseCount('--retry', f.retry, 100) : 0;
    if (f.state === '') throw new UsageError('--state', 'empty');
    if (f.checkpoint !== undefined && f.state === undefined) throw new UsageError('--checkpoint', 'only with --state');
    const checkpointMs = f.checkpoint !== undefined ? Math.max(0, Math.round(parseDurationNs('--checkpoint', f.checkpoint) / 1e6)) : 60_000;
    const { runApply } = await import('../apply/run');
    const r = await runApply({
      input: args[0] ?? '-',
      ...(f.src !== undefined ? { src: f.src } : {}),
      ...(f.dst !== undefined ? { dst: f.dst } : {}),
      ...(f.state !== undefined ? { state: f.state } : {}),
      checkpointMs,
      dryRun: f['dry-run'],
      verify: f.verify,
      fsync: f.fsync,
      retry,
      // A request to object storage is tried 6 times unless --retry says otherwise.
      s3: s3FromFlags(f, f.retry !== undefined ? retry + 1 : undefined),
      progress: ctx.progress({ flags: f, given }),
      tool: ctx.tool,
      interrupted: ctx.interrupted,
      warn: ctx.warn,
    });
    return r.attention ? EXIT.attention : EXIT.ok;
  },
};

export function main(argv: string[] = process.argv.slice(2)): Promise<never> {
  return runCommand(command, argv);
}
