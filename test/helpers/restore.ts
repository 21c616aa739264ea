import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isRoot, records } from './run';
import { bash, q } from './sync';

/*
 * What the restore tests compare: a tree as its objects with their
 * metadata (type, content, symlink target, mode, owner, mtime), hard-link
 * groups, and cairn-restore's results stream. Shares no code with lib/.
 */

/**
 * How exactly mtimes are compared:
 * - 'us': both sides to the microsecond, floored (cairn-restore promises the
 *   microsecond at least; Node sets times through a double, ~240 ns off, so
 *   the sources the tests make have their ns in the middle of a microsecond,
 *   xxx500, and flooring both sides is exact);
 * - 's': the archive held whole seconds: the source floored to the second,
 *   the restored copy with all 9 digits (it must be exactly .000000000);
 * - 'none': not compared.
 */
export type Precision = 'us' | 's' | 'none';

/** One object of a tree, as compared. */
export interface Meta {
  type: 'file' | 'dir' | 'symlink' | 'other';
  size?: number;
  /** sha256 hex of a file's content. */
  hash?: string;
  target?: string;
  /** Permission bits, 4 octal digits (not for symlinks). */
  mode?: string;
  uid?: number;
  gid?: number;
  mtime?: string;
}

function pad9(n: bigint): string {
  return String(n).padStart(9, '0');
}

/** An mtime in ns as text, for the `side` (source or restored copy) of a comparison at `precision`. */
export function mtimeText(ns: bigint, precision: Precision, side: 'source' | 'restored'): string | undefined {
  const sec = ns / 1_000_000_000n;
  const frac = ns % 1_000_000_000n;
  if (precision === 'none') return undefined;
  if (precision === 'us') return `${sec}.${pad9(frac).slice(0, 6)}`;
  return side === 'source' ? `${sec}.000000000` : `${sec}.${pad9(frac)}`;
}

export interface SnapOptions {
  /** One precision for every object, or one per relative path. */
  precision: Precision | ((rel: string) => Precision);
  side: 'source' | 'restored';
  /** Compare owners (default: when running as root). */
  owners?: boolean;
  /** Directory mtimes compared too (default true). */
  dirTimes?: boolean;
}

/** Every object under root (root itself excluded) with its metadata, by relative path, sorted by bytes. */
export function metaSnapshot(root: string, o: SnapOptions): Map<string, Meta> {
  const owners = o.owners ?? isRoot;
  const out = new Map<string, Meta>();
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(path.join(root, rel))) {
      const r = rel === '' ? name : `${rel}/${name}`;
      const abs = path.join(root, r);
      const st = fs.lstatSync(abs, { bigint: true });
      const m: Meta = { type: st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other' };
      if (m.type === 'file') {
        const data = fs.readFileSync(abs);
        m.size = data.length;
        m.hash = createHash('sha256').update(data).digest('hex');
      }
      if (m.type === 'symlink') m.target = fs.readlinkSync(abs);
      else m.mode = (Number(st.mode) & 0o7777).toString(8).padStart(4, '0');
      if (owners) {
        m.uid = Number(st.uid);
        m.gid = Number(st.gid);
      }
      if (m.type !== 'dir' || o.dirTimes !== false) {
        const t = mtimeText(st.mtimeNs, typeof o.precision === 'function' ? o.precision(r) : o.precision, o.side);
        if (t !== undefined) m.mtime = t;
      }
      out.set(r, m);
      if (m.type === 'dir') walk(r);
    }
  };
  walk('');
  return sortMap(out);
}

export function sortMap<T>(m: Map<string, T>): Map<string, T> {
  return new Map([...m].sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
}

/** The part of a snapshot at the given paths (in its order). */
export function only<T>(m: Map<string, T>, paths: Iterable<string>): Map<string, T> {
  const want = new Set(paths);
  for (const p of want) assert.ok(m.has(p), `test bug: ${p} is not in the snapshot`);
  return new Map([...m].filter(([p]) => want.has(p)));
}

/** The directories above a relative path, outermost first. */
export function ancestors(p: string): string[] {
  const out: string[] = [];
  for (let i = p.indexOf('/'); i >= 0; i = p.indexOf('/', i + 1)) out.push(p.slice(0, i));
  return out;
}

/** Groups of paths (sorted, each group sorted) that are one inode: hard links. Only groups of two or more. */
export function linkGroups(root: string, within?: Set<string>): string[][] {
  const byIno = new Map<string, string[]>();
  const walk = (rel: string) => {
    for (const d of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const r = rel === '' ? d.name : `${rel}/${d.name}`;
      if (d.isDirectory()) walk(r);
      else if (d.isFile() && (within === undefined || within.has(r))) {
        const st = fs.lstatSync(path.join(root, r));
        const k = `${st.dev}:${st.ino}`;
        byIno.set(k, [...(byIno.get(k) ?? []), r]);
      }
    }
  };
  walk('');
  return [...byIno.values()].filter((g) => g.length > 1).map((g) => g.sort()).sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
}

/** A restore result record as the tests compare it. */
export interface Result {
  op: string;
  path: string;
  status: string;
  volume?: number;
  error?: string;
}

export interface Restored {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `cairn-restore ARGS [< stdin]` (bin/ first on PATH). */
export function restore(args: string[], stdin?: string): Restored {
  const r = bash(`cairn-restore ${args.map(q).join(' ')}${stdin !== undefined ? ` < ${q(stdin)}` : ' < /dev/null'}`);
  return { code: r.code, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The records of a results stream (header `{"cairn":"results","version":1,...}`
 * and end record checked and dropped), each reduced to op, path, status,
 * error (when there is one) and, with `volumes`, volume.
 */
export function resultsOf(stdout: string, volumes = false): Result[] {
  const recs = records(stdout);
  assert.equal(recs[0]!.cairn, 'results', `results header: ${JSON.stringify(recs[0])}`);
  assert.equal(recs[0]!.version, 1);
  assert.equal(recs.at(-1)!.cairn, 'end', 'results end record');
  return recs.slice(1, -1).map((r) => {
    assert.equal(r.path_b64, undefined, `${String(r.path)}: every name here is UTF-8, no path_b64`);
    const x: Result = { op: r.op as string, path: r.path as string, status: r.status as string };
    if (volumes && r.volume !== undefined) x.volume = r.volume as number;
    if (r.error !== undefined) x.error = r.error as string;
    return x;
  });
}

/** Results sorted by path (the order of a tar or of the media is not what these compare). */
export function byPath(rs: Result[]): Result[] {
  return [...rs].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
}

/** `{op:'restore', path, status}` for each path, sorted by path. */
export function expectResults(paths: Iterable<string>, status: string): Result[] {
  return byPath([...paths].map((p) => ({ op: 'restore', path: p, status })));
}

/** Asserts a restore ran cleanly (exit 0, no stderr) and returns its results. */
export function restoredOk(r: Restored, what: string, volumes = false): Result[] {
  assert.equal(r.stderr, '', `${what}: stderr`);
  assert.equal(r.code, 0, `${what}: exit status`);
  return resultsOf(r.stdout, volumes);
}

/**
 * A --mounter script: given a volume descriptor (plain or gzip), it reads
 * the volume number from the header with grep, appends it to `log`, and
 * prints `mediaDir/N` (exits 0 silently for volume 0, the eject call).
 * For a volume in `fail` it exits 1, silently.
 */
export function writeMounter(file: string, mediaDir: (n: number) => string, log: string, fail: number[] = []): string {
  const probe = mediaDir(12345);
  assert.ok(probe.includes('12345'), 'mediaDir(n) names n');
  const [before, after] = probe.split('12345');
  const script = `#!/bin/sh
v=$(gzip -dcf "$1" | head -n 1 | grep -o '"volume":[0-9]*' | head -n 1 | cut -d: -f2)
echo "$v" >> ${q(log)}
[ "$v" = 0 ] && exit 0
case " ${fail.join(' ')} " in *" $v "*) exit 1;; esac
echo ${q(before!)}"$v"${q(after!)}
`;
  fs.writeFileSync(file, script, { mode: 0o755 });
  return file;
}

/** The volume numbers a mounter was asked for, in order. */
export function mounterCalls(log: string): number[] {
  if (!fs.existsSync(log)) return [];
  return fs.readFileSync(log, 'utf8').trimEnd().split('\n').filter((l) => l !== '').map(Number);
}

/** The volume numbers of `cairn-restore --list` output and its records. */
export interface Listing {
  header: Record<string, unknown>;
  media: number[];
  records: Record<string, unknown>[];
}

export function listingOf(stdout: string): Listing {
  const recs = records(stdout);
  const header = recs[0]!;
  assert.equal(header.cairn, 'restore', `--list header: ${JSON.stringify(header)}`);
  assert.equal(header.version, 1);
  assert.equal(recs.at(-1)!.cairn, 'end', '--list end record');
  return { header, media: header.media as number[], records: recs.slice(1, -1) };
}

/** Every path under a directory, for "nothing written" checks. */
export function listAll(root: string): string[] {
  const r = bash(`cd ${q(root)} && find . -mindepth 1 | LC_ALL=C sort`);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout === '' ? [] : r.stdout.trimEnd().split('\n');
}
