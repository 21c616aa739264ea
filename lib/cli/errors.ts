import { EXIT, type ExitCode } from './exit-codes';

/**
 * An error that ends a command with a known exit code and a one-line message.
 * `what` is the thing that went wrong (a file, an option, "file:line"); the
 * command prefixes its own name, so the line reads `cairn-scan: what: why`.
 */
export class CairnError extends Error {
  constructor(
    readonly what: string,
    readonly why: string,
    readonly exitCode: ExitCode,
  ) {
    super(what ? `${what}: ${why}` : why);
  }
}

/** Bad flags or arguments: exit 2, nothing done. */
export class UsageError extends CairnError {
  constructor(what: string, why: string) {
    super(what, why, EXIT.usage);
  }
}

/**
 * Bad input data: exit 2. `file` and `line` locate it; `field` names the
 * offending field when there is one.
 */
export class InputError extends CairnError {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly field: string | undefined,
    why: string,
  ) {
    super(line > 0 ? `${file}:${line}` : file, field ? `${field}: ${why}` : why, EXIT.usage);
  }
}

/** A fatal I/O error (root missing, output unwritable): exit 3. */
export class FatalIoError extends CairnError {
  constructor(what: string, why: string) {
    super(what, why, EXIT.io);
  }
}

/** A message kept on one line: control characters (a newline in a file name) written as JSON escapes. */
export function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f]/g, (c) => (c === '\u007f' ? '\\u007f' : JSON.stringify(c).slice(1, -1)));
}

/** `EACCES: permission denied` from a Node system error, without the path Node appends. */
export function describeSystemError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.code === 'string') {
    const text = typeof e.message === 'string' ? e.message : '';
    // Node formats "EACCES: permission denied, scandir '/x'"; keep code and reason.
    const m = /^([A-Z0-9]+): ([^,]+)/.exec(text);
    return m ? `${m[1]}: ${m[2]}` : e.code;
  }
  return err instanceof Error ? err.message : String(err);
}
