import { execFileSync, spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import { test as nodeTest } from 'node:test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Project root (dist/test/helpers/ -> ../../..). */
export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const BIN = path.join(ROOT, 'bin');

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs one of the real executables (bin/cairn-*), feeding `input` on stdin. */
export function run(cmd: string, args: readonly string[], opts: SpawnOptions & { input?: string | Buffer } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(BIN, cmd), args, { ...opts, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }),
    );
    child.stdin!.on('error', () => {});
    child.stdin!.end(opts.input ?? '');
  });
}

/** A shell pipeline, for EPIPE and the like; returns what sh saw. */
export function sh(script: string, opts: { cwd?: string } = {}): RunResult {
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', cwd: opts.cwd ?? ROOT, env: { ...process.env, PATH: `${BIN}:${process.env.PATH}` } });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** The temporary directories of this process, removed at exit by one listener. */
const TEMP_DIRS: string[] = [];

/** A fresh temporary directory, removed when the process exits. */
export function tempDir(prefix = 'cairn-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o755);
  // GNU rm, not fs.rmSync: it removes trees deeper than PATH_MAX (one test makes one).
  if (TEMP_DIRS.length === 0) process.on('exit', () => spawnSync('rm', ['-rf', ...TEMP_DIRS]));
  TEMP_DIRS.push(dir);
  return dir;
}

/** Lines of an NDJSON text as objects (the trailing newline is required). */
export function records(text: string): Record<string, unknown>[] {
  if (!text.endsWith('\n')) throw new Error(`output does not end with a newline: ${JSON.stringify(text.slice(-80))}`);
  return text.slice(0, -1).split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

export const isRoot = process.getuid?.() === 0;

/** Mounts a tmpfs of `size` (mount's size= and other options) on a fresh directory, for a destination that fills up; the caller unmounts it. Needs root. */
export function smallTmpfs(size: string): { dir: string; unmount: () => void } {
  const dir = path.join(tempDir('cairn-small-'), 'dst');
  fs.mkdirSync(dir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'cairn-small', dir]);
  return { dir, unmount: () => execFileSync('umount', [dir]) };
}

/**
 * node:test's `test`, skipped (saying which tool is missing) when one of
 * `tools` is not on PATH: for suites that check cairn against other tools
 * (.ci/run installs them all; a machine without them still runs the rest).
 */
export function testNeeding(...tools: string[]): typeof nodeTest {
  const missing = tools.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' }).status !== 0);
  if (missing.length === 0) return nodeTest;
  const reason = `needs ${missing.join(', ')} (not installed; .ci/run installs it)`;
  return ((name: string) => nodeTest(name, { skip: reason }, () => {})) as unknown as typeof nodeTest;
}
