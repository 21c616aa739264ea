import { COMMON_FLAGS, describeFlags, parseFlags, type FlagSpec, type Parsed } from './flags';
import { CairnError, describeSystemError, oneLine } from './errors';
import { EXIT, type ExitCode } from './exit-codes';
import { version } from './version';

/** What a command's run() gets besides its flags. */
export interface Context {
  /** `cairn-scan`, used as the prefix of every message. */
  readonly prog: string;
  /** `cairn-scan 0.1.0`: what headers record as the tool that wrote a stream. */
  readonly tool: string;
  /** Whether to show progress: --progress/--no-progress when given, else when stderr is a terminal. */
  progress(parsed: { flags: { progress?: boolean }; given: ReadonlySet<string> }): boolean;
  /** Set once SIGINT arrives; long loops check it and stop at a clean point. */
  readonly interrupted: () => boolean;
  /** One line on stderr, prefixed with the program name. */
  warn(what: string, why: string): void;
}

export interface CommandDef<S extends FlagSpec> {
  readonly name: string;
  readonly synopsis: string;
  readonly summary: string;
  readonly flags: S;
  run(parsed: Parsed<S & typeof COMMON_FLAGS>, ctx: Context): Promise<ExitCode>;
}

/** How long a command may take to reach a clean stop after SIGINT (a second ^C stops it at once). */
let interruptGraceMs = 3000;

/**
 * A command whose clean stop takes longer asks for more time: uploads to
 * object storage finish the parts on their way and abort the upload, so
 * that nothing is left to be paid for.
 */
export function allowInterruptGrace(ms: number): void {
  interruptGraceMs = Math.max(interruptGraceMs, ms);
}

/**
 * The one place that turns a command into a process: flags, --help and
 * --version, exit codes, error lines, EPIPE and SIGINT. Command files only
 * declare flags and wire library calls.
 */
export async function runCommand<S extends FlagSpec>(def: CommandDef<S>, argv: readonly string[]): Promise<never> {
  const prog = `cairn-${def.name}`;
  const debug = argv.includes('--debug');
  let interrupted = false;

  // A closed downstream (`cairn-scan | head -1`) is a normal end, not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(EXIT.ok);
    fail(Object.assign(err, { path: 'stdout' }));
  });
  process.on('SIGINT', () => {
    if (interrupted) process.exit(EXIT.interrupted);
    interrupted = true;
    setTimeout(() => process.exit(EXIT.interrupted), interruptGraceMs);
  });

  const ctx: Context = {
    prog,
    get tool() {
      return `${prog} ${version()}`;
    },
    progress: ({ flags, given }) => (given.has('progress') ? flags.progress === true : process.stderr.isTTY === true),
    interrupted: () => interrupted,
    warn: (what, why) => process.stderr.write(`${prog}: ${oneLine(what ? `${what}: ${why}` : why)}\n`),
  };

  function fail(err: unknown): never {
    if (err instanceof CairnError) {
      process.stderr.write(`${prog}: ${oneLine(err.message)}\n`);
      if (debug && err.stack) process.stderr.write(`${err.stack}\n`);
      return exit(err.exitCode);
    }
    const e = err as NodeJS.ErrnoException;
    if (e && e.code === 'EPIPE') return exit(EXIT.ok);
    // A system error (ENOSPC on stdout, EIO...) or a bug: either way fatal, never "usage".
    const what = e && typeof e.code === 'string' ? `${e.path ?? e.syscall ?? 'I/O'}: ${describeSystemError(e)}` : `internal error: ${e && e.message ? e.message.split('\n')[0] : String(err)}`;
    process.stderr.write(`${prog}: ${oneLine(what)}\n`);
    if (debug && e && e.stack) process.stderr.write(`${e.stack}\n`);
    return exit(EXIT.io);
  }

  // Node ends a process whose event loop runs dry with status 0, even mid-command: work left waiting on a promise nothing
  // will settle would pass for success. Every finished command exits explicitly, so reaching here is that bug.
  process.on('beforeExit', () => fail(new Error('stopped before finishing: work was left waiting on nothing')));

  try {
    const spec = { ...def.flags, ...COMMON_FLAGS };
    const parsed = parseFlags(argv, spec);
    if (parsed.flags.help) {
      process.stdout.write(helpText(def, spec));
      return await exitAfterFlush(EXIT.ok);
    }
    if (parsed.flags.version) {
      process.stdout.write(`${prog} (cairn) ${version()}\n`);
      return await exitAfterFlush(EXIT.ok);
    }
    const code = await def.run(parsed, ctx);
    return await exitAfterFlush(interrupted ? EXIT.interrupted : code);
  } catch (err) {
    if (interrupted) return exit(EXIT.interrupted);
    return fail(err);
  }
}

function helpText(def: CommandDef<FlagSpec>, spec: FlagSpec): string {
  return (
    `usage: cairn-${def.name} ${def.synopsis}\n\n${def.summary}\n\n` +
    `options:\n${describeFlags(spec)}\n\nSee cairn-${def.name}(1) for the full reference.\n`
  );
}

function exit(code: ExitCode): never {
  process.exit(code);
}

/**
 * Exit once stdout has taken everything written to it (pipes are
 * asynchronous), one turn later than that, so a write error (a full disk)
 * reaches the 'error' handler, which reports it and exits 3, before we exit 0.
 */
function exitAfterFlush(code: ExitCode): Promise<never> {
  return new Promise(() => {
    process.stdout.write('', () => setImmediate(() => exit(code)));
  });
}
