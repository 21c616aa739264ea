import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freshDir } from './archive';
import { records, run } from './run';

/*
 * The sandbox the restore safety tests run cairn-restore in: a fresh DIR
 * (`dest`) beside canaries (`x`, what `../x` reaches; `outside/` with
 * `secret` and `sub/`), the whole sandbox but DIR snapshotted around each
 * run, and the asserts of an outcome (exit status, one stderr line per
 * reported entry, results records, what DIR holds).
 */

/** One line of a snapshot: type, bytes, target, mode, owner and mtime. */
function describe(abs: string): string {
  const st = fs.lstatSync(abs, { bigint: true });
  const meta = `mode=${(st.mode & 0o7777n).toString(8)} uid=${st.uid} gid=${st.gid} mtime=${st.mtimeNs}`;
  if (st.isFile()) return `file ${createHash('sha256').update(fs.readFileSync(abs)).digest('hex')} ${meta}`;
  if (st.isDirectory()) return `dir ${meta}`;
  if (st.isSymbolicLink()) return `symlink -> ${fs.readlinkSync(abs)} ${meta}`;
  return `other rdev=${st.rdev} ${meta}`;
}

/** Every object under root (root included, as ''), except the subtree at `skip`; and the absolute paths `far` (or 'absent'). */
export function snap(root: string, skip: string, far: readonly string[] = []): Map<string, string> {
  const out = new Map<string, string>([['', describe(root)]]);
  const walk = (rel: string) => {
    for (const n of fs.readdirSync(path.join(root, rel)).sort()) {
      const r = rel === '' ? n : `${rel}/${n}`;
      if (r === skip) continue;
      const abs = path.join(root, r);
      out.set(r, describe(abs));
      if (fs.lstatSync(abs).isDirectory()) walk(r);
    }
  };
  walk('');
  for (const f of far) out.set(f, fs.lstatSync(f, { throwIfNoEntry: false }) !== undefined ? describe(f) : 'absent');
  return out;
}

/** What DIR holds: rel -> 'dir', 'file:CONTENT' ('file:N bytes' over 4 KiB), 'link:TARGET', 'fifo', 'char:MAJ,MIN', 'block:MAJ,MIN', 'other'. */
export function destView(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const n of fs.readdirSync(path.join(dir, rel)).sort()) {
      const r = rel === '' ? n : `${rel}/${n}`;
      const abs = path.join(dir, r);
      const st = fs.lstatSync(abs);
      const dev = `${Math.floor(st.rdev / 256) & 0xfff},${st.rdev & 0xff}`;
      if (st.isDirectory()) {
        out[r] = 'dir';
        walk(r);
      } else if (st.isFile()) out[r] = `file:${st.size > 4096 ? `${st.size} bytes` : fs.readFileSync(abs, 'utf8')}`;
      else if (st.isSymbolicLink()) out[r] = `link:${fs.readlinkSync(abs)}`;
      else if (st.isFIFO()) out[r] = 'fifo';
      else if (st.isCharacterDevice()) out[r] = `char:${dev}`;
      else if (st.isBlockDevice()) out[r] = `block:${dev}`;
      else out[r] = 'other';
    }
  };
  walk('');
  return out;
}

export interface Box {
  /** The sandbox. */
  box: string;
  /** DIR, the destination (empty). */
  dest: string;
  /** A canary directory beside DIR, holding `secret` and `sub/`. */
  outside: string;
  /** A canary file beside DIR: what `../x` reaches. */
  x: string;
}

/** A fresh sandbox under `parent`, its DIR named `destName`. */
export function newBox(parent: string, label: string, destName = 'dest'): Box {
  const box = freshDir(parent, `${label.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 40)}-`);
  const dest = path.join(box, destName);
  const outside = path.join(box, 'outside');
  const x = path.join(box, 'x');
  fs.mkdirSync(dest);
  fs.mkdirSync(path.join(outside, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(outside, 'secret'), 'secret\n');
  fs.writeFileSync(x, 'canary x\n');
  // Distinct, old times: a metadata change through a link shows.
  for (const p of [path.join(outside, 'secret'), path.join(outside, 'sub'), outside, x]) fs.utimesSync(p, 1_000_000_000, 1_000_000_000);
  return { box, dest, outside, x };
}

/** Writes an archive into the sandbox (inside its snapshot: it must not change either). */
export function tarIn(b: Box, name: string, data: Buffer): string {
  const file = path.join(b.box, name);
  fs.writeFileSync(file, data);
  return file;
}

export interface Outcome {
  code: number | null;
  stderr: string;
  stdout: string;
  /** The results records, header and end checked and dropped. */
  results: Record<string, unknown>[];
  /** Wall time of the run. */
  ms: number;
}

/**
 * cairn-restore -d DEST ARGS, with the sandbox (minus DEST) and the paths
 * `far` snapshotted around it: asserted unchanged. A hang (a fifo read to
 * its end) is killed after 20 s, not waited for.
 */
export async function restoreIn(b: Box, args: string[], o: { input?: Buffer; env?: NodeJS.ProcessEnv; far?: readonly string[] } = {}): Promise<Outcome> {
  const rel = path.relative(b.box, b.dest);
  const before = snap(b.box, rel, o.far);
  const t0 = Date.now();
  const r = await run('cairn-restore', ['-d', b.dest, ...args], {
    timeout: 20_000,
    ...(o.input !== undefined ? { input: o.input } : {}),
    ...(o.env !== undefined ? { env: { ...process.env, ...o.env } } : {}),
  });
  const ms = Date.now() - t0;
  assert.equal(r.signal, null, `cairn-restore killed (${String(r.signal)}): a hang?`);
  assert.deepEqual(snap(b.box, rel, o.far), before, `nothing outside DIR changes (stderr: ${r.stderr})`);
  let results: Record<string, unknown>[] = [];
  if (r.stdout !== '') {
    const recs = records(r.stdout);
    assert.equal(recs[0]!.cairn, 'results', `results header: ${r.stdout.slice(0, 200)}`);
    assert.deepEqual(recs.at(-1), { cairn: 'end' }, 'end record');
    results = recs.slice(1, -1);
  }
  return { code: r.code, stderr: r.stderr, stdout: r.stdout, results, ms };
}

/** A stderr line: the entry name as printed, and the reason (a RegExp, or the exact text). */
export type Line = [entry: string, why: string | RegExp];

export interface Want {
  code: number;
  /** [path (or b64:PATH_B64), status] of every results record, in order. */
  results: [string, string][];
  /** The refused or skipped entries' stderr lines, in order. */
  lines: Line[];
  /** DIR afterwards, exactly (destView). */
  dest: Record<string, string>;
}

/** Asserts an outcome: exit status, one stderr line per reported entry, results records, DIR exactly. */
export function check(o: Outcome, source: string, want: Want, dest: string): void {
  const got = o.stderr === '' ? [] : o.stderr.replace(/\n$/, '').split('\n');
  assert.ok(o.stderr === '' || o.stderr.endsWith('\n'), `stderr ends with a newline: ${JSON.stringify(o.stderr)}`);
  assert.equal(got.length, want.lines.length, `one stderr line per reported entry:\n${o.stderr}`);
  want.lines.forEach(([entry, why], i) => {
    const prefix = `cairn-restore: ${source}: ${entry}: `;
    const line = got[i]!;
    assert.ok(line.startsWith(prefix), `stderr line ${i + 1} names source and entry:\n  got  ${JSON.stringify(line)}\n  want ${JSON.stringify(prefix)}...`);
    const reason = line.slice(prefix.length);
    if (typeof why === 'string') assert.equal(reason, why, `reason for ${entry}`);
    else assert.match(reason, why, `reason for ${entry}`);
  });
  assert.deepEqual(o.results.map((r) => [r.path ?? `b64:${String(r.path_b64)}`, r.status]), want.results, `results records:\n${o.stdout}`);
  const reported = o.results.filter((r) => r.status === 'failed' || r.status === 'skipped');
  assert.equal(reported.length, got.length, 'one stderr line per failed or skipped record');
  for (const r of o.results) {
    assert.equal(r.op, 'restore', JSON.stringify(r));
    if (r.status !== 'failed' && r.status !== 'skipped') assert.equal(r.error, undefined, JSON.stringify(r));
  }
  // The record's error is the stderr line's reason (a skip's line says "skipped: " first).
  reported.forEach((r, i) => {
    const reason = got[i]!.slice(`cairn-restore: ${source}: ${want.lines[i]![0]}: `.length);
    assert.ok(typeof r.error === 'string' && r.error !== '' && (reason === r.error || reason === `skipped: ${r.error}`), `record ${JSON.stringify(r)} and line ${JSON.stringify(got[i])}`);
  });
  assert.deepEqual(destView(dest), want.dest, 'what DIR holds');
  assert.equal(o.code, want.code, `exit status (stderr: ${o.stderr})`);
}
