import { spawn } from 'node:child_process';
import { BIN, ROOT } from './run';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from './run';
import { bash, q } from './sync';

/** A fresh pair: empty directories a and b, and where their state goes (not made yet). */
export function newPair(prefix = 'cairn-bisync-'): { dir: string; a: string; b: string; state: string } {
  const dir = tempDir(prefix);
  const a = path.join(dir, 'a');
  const b = path.join(dir, 'b');
  fs.mkdirSync(a);
  fs.mkdirSync(b);
  return { dir, a, b, state: path.join(dir, 'state.ndjson') };
}

export interface BisyncRun {
  /** Exit codes of diff, plan, apply. */
  codes: number[];
  /** The results records of cairn-apply (no header, no end record). */
  results: Record<string, unknown>[];
  stderr: string;
}

/**
 * One two-way sync of A and B with the real commands:
 * `cairn-diff --base STATE A B | cairn-plan --bisync FLAGS | cairn-apply --state STATE`.
 */
export function bisync(a: string, b: string, state: string, planFlags: string[] = [], diffFlags: string[] = [], applyFlags: string[] = []): BisyncRun {
  const r = bash(bisyncScript(a, b, state, planFlags, diffFlags, applyFlags));
  return parseBisync(r.stdout, r.stderr);
}

/** Like bisync(), without blocking the event loop: tests can run several pairs at once. */
export function bisyncAsync(a: string, b: string, state: string, planFlags: string[] = [], diffFlags: string[] = [], applyFlags: string[] = []): Promise<BisyncRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', bisyncScript(a, b, state, planFlags, diffFlags, applyFlags)], {
      cwd: ROOT,
      env: { ...process.env, PATH: `${BIN}:${process.env.PATH}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', () => {
      try {
        resolve(parseBisync(Buffer.concat(out).toString('utf8'), Buffer.concat(err).toString('utf8')));
      } catch (e) {
        reject(e);
      }
    });
  });
}

function bisyncScript(a: string, b: string, state: string, planFlags: string[], diffFlags: string[], applyFlags: string[]): string {
  const script =
    `cairn-diff --base ${q(state)} ${diffFlags.map(q).join(' ')} ${q(a)} ${q(b)} 2>"$E1" | ` +
    `cairn-plan --bisync ${planFlags.map(q).join(' ')} 2>"$E2" | ` +
    `cairn-apply --state ${q(state)} ${applyFlags.map(q).join(' ')} 2>"$E3"; ` +
    `echo "codes:\${PIPESTATUS[*]}"; cat "$E1" "$E2" "$E3" >&2`;
  return `E1=$(mktemp); E2=$(mktemp); E3=$(mktemp); trap 'rm -f "$E1" "$E2" "$E3"' EXIT; ${script}`;
}

function parseBisync(stdout: string, stderr: string): BisyncRun {
  const lines = stdout.split('\n').filter((l) => l !== '');
  const codeLine = lines.pop() ?? '';
  const codes = codeLine.replace(/^codes:/, '').split(' ').map(Number);
  const results = lines
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((o) => o.cairn === undefined);
  return { codes, results, stderr };
}

/** The results as `op to path status` lines, sorted: easy to compare in a table. */
export function summary(results: Record<string, unknown>[]): string[] {
  return results.map((r) => `${r.op} ${r.to ?? '-'} ${r.path} ${r.status}`).sort();
}
