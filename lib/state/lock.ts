import * as fs from 'node:fs';
import { CairnError, describeSystemError } from '../cli/errors';
import { EXIT } from '../cli/exit-codes';

/** The lock of a state file: beside it, holding the pid of the run that writes it. */
export function lockPath(state: string): string {
  return `${state}.lock`;
}

/** A process with this pid runs (EPERM: it does, under another user). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function holder(file: string): number | undefined {
  try {
    const pid = Number.parseInt(fs.readFileSync(file, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function busy(file: string, pid: number): CairnError {
  return new CairnError(file, `locked by process ${pid}: another run on this pair is under way (remove the lock only if it is not)`, EXIT.usage);
}

/** Fails when a live process holds the lock (cairn-diff --base reads a state no one is writing). */
export function checkLock(state: string): void {
  const file = lockPath(state);
  const pid = holder(file);
  if (pid !== undefined && pid !== process.pid && alive(pid)) throw busy(file, pid);
}

/**
 * Takes the lock for this process; a lock whose process is gone (a run
 * killed) is taken over with a warning. Returns the release.
 */
export function takeLock(state: string, warn: (what: string, why: string) => void): () => void {
  const file = lockPath(state);
  for (let tries = 0; ; tries++) {
    try {
      const fd = fs.openSync(file, 'wx', 0o644);
      fs.writeSync(fd, `${process.pid}\n`);
      fs.closeSync(fd);
      return () => {
        if (holder(file) === process.pid) fs.rmSync(file, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || tries >= 3) {
        throw new CairnError(file, `cannot take the lock: ${describeSystemError(err)}`, EXIT.io);
      }
    }
    const pid = holder(file);
    if (pid !== undefined && alive(pid)) throw busy(file, pid);
    warn(file, `stale lock${pid !== undefined ? ` of process ${pid}, which is gone` : ''}: taken over`);
    fs.rmSync(file, { force: true });
  }
}
