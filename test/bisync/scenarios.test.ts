/**
 * Two-way sync scenarios, table-driven, against the real executables:
 * `cairn-diff --base STATE A B | cairn-plan --bisync | cairn-apply --state STATE`.
 *
 * Each case starts from a tree synced once (so a state exists) or, for the
 * first-run cases, from two unsynced trees; edits both sides; runs one
 * bisync; and checks both final trees exactly (type, content, symlink
 * target, and mode where the table says one), the results as `op to path
 * status` lines, the exit codes, the state file, and a second run: nothing
 * to do, or the same conflicts again. A refusal (exit 2 or 1 of cairn-plan)
 * must leave both trees and the state byte for byte as they were.
 */
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { bisync, bisyncAsync, newPair, summary, type BisyncRun } from '../helpers/bisync';
import { bytesOf } from '../helpers/sync';
import { setTime } from '../helpers/tree';

// ---------------------------------------------------------------- trees

type Content = string | Buffer;
type Spec = Content | { file: Content; mode?: number; mtime?: string } | { dir: true; mode?: number } | { link: string };
type Tree = Record<string, Spec>;

const DIR: Spec = { dir: true };
const link = (target: string): Spec => ({ link: target });

const isDir = (s: Spec): s is { dir: true; mode?: number } => typeof s === 'object' && !Buffer.isBuffer(s) && 'dir' in s;
const isLink = (s: Spec): s is { link: string } => typeof s === 'object' && !Buffer.isBuffer(s) && 'link' in s;
const fileOf = (s: Spec): { file: Content; mode?: number; mtime?: string } => (typeof s === 'string' || Buffer.isBuffer(s) ? { file: s } : (s as { file: Content }));

/** A tree with some paths set or (null) removed; a removed or replaced path loses its subtree. */
function tree(base: Tree, patch: Record<string, Spec | null>): Tree {
  const out: Tree = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    for (const p of Object.keys(out)) {
      if (p.startsWith(`${k}/`) && (v === null || !isDir(v))) delete out[p];
      // A new child turns a non-directory ancestor into a directory.
      if (v !== null && k.startsWith(`${p}/`) && !isDir(out[p]!)) delete out[p];
    }
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out;
}

/** Every path of the tree with its parents added as directories. */
function normalize(t: Tree): Map<string, Spec> {
  const out = new Map<string, Spec>();
  for (const [k, v] of Object.entries(t)) {
    const parts = k.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      if (!out.has(parent) && t[parent] === undefined) out.set(parent, DIR);
    }
    out.set(k, v);
  }
  return out;
}

function contentText(c: Content): string {
  const buf = typeof c === 'string' ? Buffer.from(c) : c;
  return buf.length <= 200 && isUtf8(buf) ? JSON.stringify(buf.toString('utf8')) : `<${buf.length} bytes ${createHash('sha256').update(buf).digest('hex').slice(0, 16)}>`;
}

const octal = (m: number) => m.toString(8).padStart(4, '0');

/** One line per expected object: `path: file "content"`, `path: dir 0700`, `path: symlink -> t`. */
function describeSpec(p: string, s: Spec): string {
  if (isDir(s)) return `${JSON.stringify(p)}: dir${s.mode !== undefined ? ` ${octal(s.mode)}` : ''}`;
  if (isLink(s)) return `${JSON.stringify(p)}: symlink -> ${s.link}`;
  const f = fileOf(s);
  return `${JSON.stringify(p)}: file${f.mode !== undefined ? ` ${octal(f.mode)}` : ''} ${contentText(f.file)}`;
}

/** The same lines for what is on disk; modes shown only where the expectation names one. */
function describeDisk(root: string, withMode: Set<string>): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    const names = fs.readdirSync(path.join(root, rel), { encoding: 'buffer' }).sort(Buffer.compare);
    for (const raw of names) {
      // A name that is not UTF-8 (only at the top here) shows as raw:<hex>.
      const name = isUtf8(raw) ? raw.toString('utf8') : `raw:${raw.toString('hex')}`;
      const r = rel === '' ? name : `${rel}/${name}`;
      const abs = rawPath(root, r);
      const st = fs.lstatSync(abs);
      const mode = withMode.has(r) ? ` ${octal(st.mode & 0o7777)}` : '';
      if (st.isDirectory()) {
        out.push(`${JSON.stringify(r)}: dir${mode}`);
        walk(r);
      } else if (st.isSymbolicLink()) out.push(`${JSON.stringify(r)}: symlink -> ${fs.readlinkSync(abs)}`);
      else if (st.isFile()) out.push(`${JSON.stringify(r)}: file${mode} ${contentText(fs.readFileSync(abs))}`);
      else out.push(`${JSON.stringify(r)}: other`);
    }
  };
  walk('');
  return out.sort();
}

function assertTree(root: string, want: Tree, what: string): void {
  const n = normalize(want);
  const withMode = new Set([...n].filter(([, s]) => !isLink(s) && (isDir(s) ? s.mode : fileOf(s).mode) !== undefined).map(([p]) => p));
  const expected = [...n].map(([p, s]) => describeSpec(p, s)).sort();
  assert.deepEqual(describeDisk(root, withMode), expected, what);
}

function makeTree(root: string, t: Tree): void {
  const ed = new Ed(root);
  for (const [p, s] of [...normalize(t)].sort(([x], [y]) => (x < y ? -1 : 1))) {
    if (isDir(s)) {
      fs.mkdirSync(ed.abs(p), { recursive: true });
      if (s.mode !== undefined) fs.chmodSync(ed.abs(p), s.mode);
    } else if (isLink(s)) ed.ln(s.link, p);
    else {
      const f = fileOf(s);
      ed.write(p, f.file, f.mtime);
      if (f.mode !== undefined) fs.chmodSync(ed.abs(p), f.mode);
    }
  }
}

/** A relative path as the file system takes it: `raw:<hex>` (a top-level name that is not UTF-8) as bytes. */
function rawPath(root: string, rel: string): string {
  if (!rel.startsWith('raw:')) return path.join(root, rel);
  // Node takes a Buffer wherever it takes a path; the string type is only for the compiler.
  return Buffer.concat([Buffer.from(`${root}/`), Buffer.from(rel.slice(4), 'hex')]) as unknown as string;
}

/** Edits on one side. */
class Ed {
  constructor(readonly root: string) {}
  abs(rel: string): string {
    return rawPath(this.root, rel);
  }
  write(rel: string, content: Content, mtime?: string): void {
    if (!rel.startsWith('raw:')) fs.mkdirSync(path.dirname(this.abs(rel)), { recursive: true });
    fs.writeFileSync(this.abs(rel), content);
    if (mtime !== undefined) this.touch(rel, mtime);
  }
  rm(rel: string): void {
    fs.rmSync(this.abs(rel), { recursive: true });
  }
  /** Removes everything in the side's root, keeping the root. */
  empty(): void {
    for (const name of fs.readdirSync(this.root, { encoding: 'buffer' })) fs.rmSync(rawPath(this.root, `raw:${name.toString('hex')}`), { recursive: true });
  }
  chmod(rel: string, mode: number): void {
    fs.chmodSync(this.abs(rel), mode);
  }
  mkdir(rel: string): void {
    fs.mkdirSync(this.abs(rel), { recursive: true });
  }
  mv(from: string, to: string): void {
    fs.renameSync(this.abs(from), this.abs(to));
  }
  ln(target: string, rel: string): void {
    fs.mkdirSync(path.dirname(this.abs(rel)), { recursive: true });
    fs.symlinkSync(target, this.abs(rel));
  }
  touch(rel: string, iso: string): void {
    // touch(1) takes no raw bytes from node; whole seconds go exactly through lutimes.
    if (rel.startsWith('raw:')) fs.lutimesSync(this.abs(rel), new Date(iso), new Date(iso));
    else setTime(this.abs(rel), iso);
  }
}

// ---------------------------------------------------------------- the table

interface Case {
  name: string;
  /** Synced once before the edits (written on A, copied to B by a first run). */
  init?: Tree;
  /** First-run cases: the two sides as they are before any sync (no state file). */
  first?: { a: Tree; b: Tree };
  editA?: (s: Ed) => void;
  editB?: (s: Ed) => void;
  flags?: string[];
  /** Exit code of cairn-plan; when not 0, nothing may be written and apply gets no plan. */
  plan?: number;
  /** Exit code of cairn-apply; 1 when conflicts remain, else 0. */
  apply?: number;
  /** Final trees; b defaults to a. */
  a: Tree;
  b?: Tree;
  /** Every result as `op to path status`. */
  ops: string[];
  /** Paths the state records afterwards; by default, when no conflict remains, every path of the final tree. */
  state?: string[];
  /** The second run: nothing planned, or the same conflicts again (none after a refusal: the state is compared byte for byte). */
  second?: 'nothing' | 'conflicts' | 'none';
  /** Further checks after the run. */
  check?: (a: string, b: string) => void;
  /** A third run after more edits (a conflict resolved by hand, a later change), then a fourth that has nothing to do. */
  third?: { editA?: (s: Ed) => void; editB?: (s: Ed) => void; ops: string[]; a: Tree; b?: Tree };
}

const T1 = '2024-01-02T03:04:05.000000000Z';
const T2 = '2024-05-06T07:08:09.000000000Z';
const T3 = '2025-03-04T05:06:07.000000000Z';

/** The tree most cases start from. */
const I: Tree = {
  'f.txt': 'one\n',
  'g.txt': 'two\n',
  'd/x': 'x\n',
  'd/y': 'y\n',
  'd/e/z': 'z\n',
  empty: DIR,
  l: link('f.txt'),
  'bin.dat': bytesOf(1, 5000),
};

/** The paths of I: what the state keeps for paths in conflict (their old base entries). */
const IP = [...normalize(I).keys()];
const ipWithout = (...gone: string[]) => IP.filter((p) => !gone.includes(p));

const ODD = ['with space.txt', 'ünïcödé/日本語.txt', 'new\nline', '-dash.txt', '--x'];
/** A top-level name that is not UTF-8, as the tree helpers write it (see rawPath). */
const raw = (...parts: (string | number[])[]) => `raw:${Buffer.concat(parts.map((x) => Buffer.from(x as string))).toString('hex')}`;
const F_FF = raw('f', [0xff], '.txt');
const IODD: Tree = { ...I, ...Object.fromEntries(ODD.map((n, i) => [n, `odd ${i}\n`])), [F_FF]: 'not utf-8\n' };

/** Twelve files at the top: enough for the re-timed rail, round numbers for --max-delete. */
const I12: Tree = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`n${String(i).padStart(2, '0')}`, `file ${i}\n`]));
const rm12 = (count: number) => (s: Ed) => {
  for (let i = 0; i < count; i++) s.rm(`n${String(i).padStart(2, '0')}`);
};
const without12 = (count: number) => tree(I12, Object.fromEntries(Array.from({ length: count }, (_, i) => [`n${String(i).padStart(2, '0')}`, null])));

const A1 = 'edited on a\n';
const B1 = 'edited on b, longer\n';

/** Both sides edit f.txt: A at T1, B at T2 (B is newer; B is larger). */
const bothEditF = { editA: (s: Ed) => s.write('f.txt', A1, T1), editB: (s: Ed) => s.write('f.txt', B1, T2) };

const cases: Case[] = [
  // ------------------------------------------------ one side changes
  {
    name: 'new files on A (one executable) copied to B with their modes; a new file in new directories on B copied to A',
    init: I,
    editA: (s) => (s.write('n.txt', 'new\n'), s.write('run.sh', '#!/bin/sh\n'), s.chmod('run.sh', 0o755)),
    editB: (s) => s.write('p/q/n.txt', 'new\n'),
    a: tree(I, { 'n.txt': { file: 'new\n', mode: 0o644 }, 'run.sh': { file: '#!/bin/sh\n', mode: 0o755 }, 'p/q/n.txt': 'new\n' }),
    ops: ['copy b n.txt done', 'copy b run.sh done', 'mkdir a p done', 'mkdir a p/q done', 'copy a p/q/n.txt done', 'meta a p/q done', 'meta a p done'],
  },
  {
    name: 'modified and deleted on A: updated and removed on B',
    init: I,
    editA: (s) => (s.write('f.txt', A1), s.rm('g.txt')),
    a: tree(I, { 'f.txt': A1, 'g.txt': null }),
    ops: ['update b f.txt done', 'remove b g.txt done'],
  },
  {
    name: 'modified (binary, same size) and deleted on B: updated and removed on A',
    init: I,
    editB: (s) => (s.write('bin.dat', bytesOf(2, 5000)), s.rm('d/x')),
    a: tree(I, { 'bin.dat': bytesOf(2, 5000), 'd/x': null }),
    ops: ['update a bin.dat done', 'remove a d/x done'],
  },
  {
    name: 'new, modified and deleted on both sides at different paths: all carried across',
    init: I,
    editA: (s) => (s.write('f.txt', A1), s.rm('d/x'), s.write('na', 'a\n')),
    editB: (s) => (s.write('g.txt', B1), s.rm('d/y'), s.write('nb', 'b\n')),
    a: tree(I, { 'f.txt': A1, 'g.txt': B1, 'd/x': null, 'd/y': null, na: 'a\n', nb: 'b\n' }),
    ops: ['update b f.txt done', 'update a g.txt done', 'remove b d/x done', 'remove a d/y done', 'copy b na done', 'copy a nb done'],
  },

  // ------------------------------------------------ both sides change the same path
  {
    name: 'new on both, identical (same time): adopted, only agree',
    init: I,
    editA: (s) => s.write('n.txt', 'same\n', T1),
    editB: (s) => s.write('n.txt', 'same\n', T1),
    a: tree(I, { 'n.txt': 'same\n' }),
    ops: ['agree - n.txt done'],
  },
  {
    name: 'new on both, same content, different times: no conflict, the newer time wins',
    init: I,
    editA: (s) => s.write('n.txt', 'same\n', T1),
    editB: (s) => s.write('n.txt', 'same\n', T2),
    a: tree(I, { 'n.txt': 'same\n' }),
    ops: ['meta a n.txt done'],
    check: (a, b) => assert.equal(fs.lstatSync(path.join(a, 'n.txt')).mtime.toISOString(), fs.lstatSync(path.join(b, 'n.txt')).mtime.toISOString()),
  },
  {
    name: 'new on both, different: conflict, both kept as they are, persists',
    init: I,
    editA: (s) => s.write('n.txt', 'from a\n'),
    editB: (s) => s.write('n.txt', 'from b\n'),
    apply: 1,
    a: tree(I, { 'n.txt': 'from a\n' }),
    b: tree(I, { 'n.txt': 'from b\n' }),
    ops: ['conflict - n.txt conflict'],
    state: IP,
  },
  {
    name: 'modified on both to the same content: no conflict',
    init: I,
    editA: (s) => s.write('f.txt', 'same edit\n', T3),
    editB: (s) => s.write('f.txt', 'same edit\n', T3),
    a: tree(I, { 'f.txt': 'same edit\n' }),
    ops: ['agree - f.txt done'],
  },
  {
    name: 'modified on both, different: conflict, persists',
    init: I,
    ...bothEditF,
    apply: 1,
    a: tree(I, { 'f.txt': A1 }),
    b: tree(I, { 'f.txt': B1 }),
    ops: ['conflict - f.txt conflict'],
    state: IP,
  },
  {
    name: 'modified on A, deleted on B: conflict, nothing deleted or restored',
    init: I,
    editA: (s) => s.write('f.txt', A1),
    editB: (s) => s.rm('f.txt'),
    apply: 1,
    a: tree(I, { 'f.txt': A1 }),
    b: tree(I, { 'f.txt': null }),
    ops: ['conflict - f.txt conflict'],
    state: IP,
  },
  {
    name: 'deleted on A, modified on B: conflict, nothing deleted or restored',
    init: I,
    editA: (s) => s.rm('bin.dat'),
    editB: (s) => s.write('bin.dat', 'smaller now\n'),
    apply: 1,
    a: tree(I, { 'bin.dat': null }),
    b: tree(I, { 'bin.dat': 'smaller now\n' }),
    ops: ['conflict - bin.dat conflict'],
    state: IP,
  },
  {
    name: 'deleted on both (a file, a directory tree): agree, gone from the state',
    init: I,
    editA: (s) => (s.rm('g.txt'), s.rm('d')),
    editB: (s) => (s.rm('g.txt'), s.rm('d')),
    a: tree(I, { 'g.txt': null, d: null }),
    ops: ['agree - g.txt done', 'agree - d done', 'agree - d/e done', 'agree - d/e/z done', 'agree - d/x done', 'agree - d/y done'],
  },

  // ------------------------------------------------ touched (mode, time) against modified
  {
    name: 'chmod on A only: the mode is carried to B, no copy',
    init: I,
    editA: (s) => s.chmod('f.txt', 0o755),
    a: tree(I, { 'f.txt': { file: 'one\n', mode: 0o755 } }),
    ops: ['meta b f.txt done'],
  },
  {
    name: 'new time on A over the same content: only the time is carried to B',
    init: I,
    editA: (s) => s.touch('g.txt', T3),
    a: tree(I, { 'g.txt': 'two\n' }),
    ops: ['meta b g.txt done'],
    check: (_a, b) => assert.equal(fs.lstatSync(path.join(b, 'g.txt')).mtime.toISOString(), '2025-03-04T05:06:07.000Z'),
  },
  {
    name: 'chmod on A, content modified on B: no conflict, the new content wins on both sides',
    init: I,
    editA: (s) => s.chmod('f.txt', 0o700),
    editB: (s) => s.write('f.txt', B1),
    a: tree(I, { 'f.txt': { file: B1, mode: 0o644 } }),
    ops: ['update a f.txt done'],
  },

  {
    name: 'new time on B (newer) against new content on A (older time): no conflict, the content wins',
    init: I,
    editA: (s) => s.write('g.txt', A1, T1),
    editB: (s) => s.touch('g.txt', T3),
    a: tree(I, { 'g.txt': A1 }),
    ops: ['update b g.txt done'],
    check: (_a, b) => assert.equal(fs.lstatSync(path.join(b, 'g.txt')).mtime.toISOString(), '2024-01-02T03:04:05.000Z'),
  },

  {
    name: 'after a mode carried across, a new time on A against new content on B is still no conflict',
    init: I,
    editA: (s) => s.chmod('f.txt', 0o755),
    a: tree(I, { 'f.txt': { file: 'one\n', mode: 0o755 } }),
    ops: ['meta b f.txt done'],
    third: {
      // The state must still know f.txt's content, to tell A's touch from an edit.
      editA: (s) => s.touch('f.txt', T3),
      editB: (s) => s.write('f.txt', B1, T1),
      ops: ['update a f.txt done'],
      a: tree(I, { 'f.txt': { file: B1, mode: 0o755 } }),
    },
  },

  // ------------------------------------------------ type changes
  {
    name: 'type changes on one side (file -> directory and file -> symlink on A, directory -> file on B): replaced on the other',
    init: I,
    editA: (s) => (s.rm('f.txt'), s.write('f.txt/inner', 'in\n'), s.rm('g.txt'), s.ln('f.txt', 'g.txt')),
    editB: (s) => (s.rm('d'), s.write('d', 'now a file\n')),
    a: tree(I, { 'f.txt': null, 'f.txt/inner': 'in\n', 'g.txt': link('f.txt'), d: 'now a file\n' }),
    ops: [
      'remove b f.txt done', 'mkdir b f.txt done', 'copy b f.txt/inner done', 'meta b f.txt done',
      'symlink b g.txt done',
      'remove a d/e/z done', 'rmdir a d/e done', 'remove a d/x done', 'remove a d/y done', 'rmdir a d done', 'copy a d done',
    ],
  },
  {
    name: 'file -> directory and file -> symlink on A, both files modified on B: conflicts, both sides left alone',
    init: I,
    editA: (s) => (s.rm('f.txt'), s.write('f.txt/inner', 'in\n'), s.rm('g.txt'), s.ln('f.txt', 'g.txt')),
    editB: (s) => (s.write('f.txt', B1), s.write('g.txt', B1)),
    apply: 1,
    a: tree(I, { 'f.txt': null, 'f.txt/inner': 'in\n', 'g.txt': link('f.txt') }),
    b: tree(I, { 'f.txt': B1, 'g.txt': B1 }),
    ops: ['conflict - f.txt conflict', 'conflict - g.txt conflict'],
    state: IP,
  },
  {
    name: 'directory -> file on B, file added inside on A: conflict, the new file and its directory kept',
    init: I,
    editA: (s) => s.write('d/new', 'new in d\n'),
    editB: (s) => (s.rm('d'), s.write('d', 'now a file\n')),
    apply: 1,
    // What A had of d unchanged goes as B said; d itself stays, holding the new file.
    a: tree(I, { 'd/e': null, 'd/x': null, 'd/y': null, 'd/new': 'new in d\n' }),
    b: tree(I, { d: 'now a file\n' }),
    ops: ['conflict - d/new conflict', 'remove a d/e/z done', 'rmdir a d/e done', 'remove a d/x done', 'remove a d/y done'],
    state: ipWithout('d/e', 'd/e/z', 'd/x', 'd/y'),
  },

  // ------------------------------------------------ directories
  {
    name: 'directory deleted on A, file added inside on B: conflict, nothing deleted that holds the new file',
    init: I,
    editA: (s) => s.rm('d'),
    editB: (s) => s.write('d/new', 'new in d\n'),
    apply: 1,
    a: tree(I, { d: null }),
    b: tree(I, { 'd/e': null, 'd/x': null, 'd/y': null, 'd/new': 'new in d\n' }),
    ops: ['conflict - d/new conflict', 'remove b d/e/z done', 'rmdir b d/e done', 'remove b d/x done', 'remove b d/y done'],
    state: ipWithout('d/e', 'd/e/z', 'd/x', 'd/y'),
  },
  {
    name: '--prefer newer, directory deleted on A, file added inside on B: the change wins, the directory is made again on A',
    init: I,
    editA: (s) => s.rm('d'),
    editB: (s) => s.write('d/new', 'new in d\n'),
    flags: ['--prefer', 'newer'],
    a: tree(I, { 'd/e': null, 'd/x': null, 'd/y': null, 'd/new': 'new in d\n' }),
    ops: ['mkdir a d done', 'copy a d/new done', 'meta a d done', 'remove b d/e/z done', 'rmdir b d/e done', 'remove b d/x done', 'remove b d/y done'],
  },
  {
    name: 'directory tree deleted on A, unchanged on B: deleted on B',
    init: I,
    editA: (s) => s.rm('d'),
    a: tree(I, { d: null }),
    ops: ['remove b d/e/z done', 'rmdir b d/e done', 'remove b d/x done', 'remove b d/y done', 'rmdir b d done'],
  },
  {
    name: 'directory deleted on A, a file inside modified on B: conflict, the modified file and its directory kept',
    init: I,
    editA: (s) => s.rm('d'),
    editB: (s) => s.write('d/x', B1),
    apply: 1,
    a: tree(I, { d: null }),
    b: tree(I, { 'd/e': null, 'd/y': null, 'd/x': B1 }),
    ops: ['conflict - d/x conflict', 'remove b d/e/z done', 'rmdir b d/e done', 'remove b d/y done'],
    state: ipWithout('d/e', 'd/e/z', 'd/y'),
  },
  {
    name: 'new directory on both sides with different files inside: merged',
    init: I,
    editA: (s) => s.write('nd/from-a', 'a\n'),
    editB: (s) => s.write('nd/from-b', 'b\n'),
    a: tree(I, { 'nd/from-a': 'a\n', 'nd/from-b': 'b\n' }),
    ops: ['agree - nd done', 'copy b nd/from-a done', 'copy a nd/from-b done'],
  },
  {
    name: 'empty directories: created on A, created on both, deleted on B',
    init: I,
    editA: (s) => (s.mkdir('ea/eb'), s.mkdir('both')),
    editB: (s) => (s.mkdir('both'), s.rm('empty')),
    a: tree(I, { 'ea/eb': DIR, both: DIR, empty: null }),
    ops: ['mkdir b ea done', 'mkdir b ea/eb done', 'meta b ea/eb done', 'meta b ea done', 'agree - both done', 'rmdir a empty done'],
  },
  {
    name: 'a directory made private (chmod 0700) on B: the mode is carried to A',
    init: I,
    editB: (s) => s.chmod('d/e', 0o700),
    a: tree(I, { 'd/e': { dir: true, mode: 0o700 } }),
    ops: ['meta a d/e done'],
  },

  // ------------------------------------------------ renames (a deletion and a new path)
  {
    name: 'file renamed on A: removed and copied on B',
    init: I,
    editA: (s) => s.mv('f.txt', 'h.txt'),
    a: tree(I, { 'f.txt': null, 'h.txt': 'one\n' }),
    ops: ['remove b f.txt done', 'copy b h.txt done'],
  },
  {
    name: 'directory renamed on B: the old one removed and the new one made on A',
    init: I,
    editB: (s) => s.mv('d', 'dd'),
    a: tree(I, { d: null, 'dd/x': 'x\n', 'dd/y': 'y\n', 'dd/e/z': 'z\n' }),
    ops: [
      'remove a d/e/z done', 'rmdir a d/e done', 'remove a d/x done', 'remove a d/y done', 'rmdir a d done',
      'mkdir a dd done', 'mkdir a dd/e done', 'copy a dd/e/z done', 'meta a dd/e done', 'copy a dd/x done', 'copy a dd/y done', 'meta a dd done',
    ],
  },
  {
    name: 'renamed differently on both sides: the old name agreed gone, both new names kept',
    init: I,
    editA: (s) => s.mv('f.txt', 'h.txt'),
    editB: (s) => s.mv('f.txt', 'k.txt'),
    a: tree(I, { 'f.txt': null, 'h.txt': 'one\n', 'k.txt': 'one\n' }),
    ops: ['agree - f.txt done', 'copy b h.txt done', 'copy a k.txt done'],
  },
  {
    name: 'renamed on A, modified on B: conflict on the old name, the new name copied',
    init: I,
    editA: (s) => s.mv('f.txt', 'h.txt'),
    editB: (s) => s.write('f.txt', B1),
    apply: 1,
    a: tree(I, { 'f.txt': null, 'h.txt': 'one\n' }),
    b: tree(I, { 'f.txt': B1, 'h.txt': 'one\n' }),
    ops: ['conflict - f.txt conflict', 'copy b h.txt done'],
    state: [...IP, 'h.txt'],
  },

  // ------------------------------------------------ symlinks
  {
    name: 'symlinks: new on A, a dangling one new on B, retargeted on B',
    init: I,
    editA: (s) => s.ln('d/x', 'lx'),
    editB: (s) => (s.ln('nowhere/at/all', 'dangling'), s.rm('l'), s.ln('g.txt', 'l')),
    a: tree(I, { lx: link('d/x'), dangling: link('nowhere/at/all'), l: link('g.txt') }),
    ops: ['symlink b lx done', 'symlink a dangling done', 'symlink a l done'],
  },
  {
    name: 'symlink retargeted differently on both: conflict',
    init: I,
    editA: (s) => (s.rm('l'), s.ln('d/x', 'l')),
    editB: (s) => (s.rm('l'), s.ln('d/y', 'l')),
    apply: 1,
    a: tree(I, { l: link('d/x') }),
    b: tree(I, { l: link('d/y') }),
    ops: ['conflict - l conflict'],
    state: IP,
  },
  {
    name: 'symlink deleted on B, file it points to modified on A',
    init: I,
    editA: (s) => s.write('f.txt', A1),
    editB: (s) => s.rm('l'),
    a: tree(I, { 'f.txt': A1, l: null }),
    ops: ['update b f.txt done', 'remove a l done'],
  },

  // ------------------------------------------------ odd names
  {
    name: 'odd names (space, unicode, newline, leading dashes, not UTF-8): new on both sides, carried across',
    init: I,
    editA: (s) => {
      s.write('with space.txt', 'odd 0\n');
      s.write('ünïcödé/日本語.txt', 'odd 1\n');
      s.write(F_FF, 'not utf-8\n');
    },
    editB: (s) => {
      s.write('new\nline', 'odd 2\n');
      s.write('-dash.txt', 'odd 3\n');
      s.write('--x', 'odd 4\n');
    },
    a: IODD,
    ops: [
      'copy b f\\xff.txt done',
      'copy b with space.txt done', 'mkdir b ünïcödé done', 'copy b ünïcödé/日本語.txt done', 'meta b ünïcödé done',
      'copy a new\nline done', 'copy a -dash.txt done', 'copy a --x done',
    ],
  },
  {
    name: 'odd names: modified, deleted, and a conflict settled by --prefer a',
    init: IODD,
    editA: (s) => (s.write('with space.txt', 'spaced out\n'), s.write('-dash.txt', 'dash on a\n', T2)),
    editB: (s) => (s.rm('new\nline'), s.write('ünïcödé/日本語.txt', '日本\n'), s.write('-dash.txt', 'dash on b\n', T1)),
    flags: ['--prefer', 'a'],
    a: tree(IODD, {
      'with space.txt': 'spaced out\n',
      'new\nline': null,
      'ünïcödé/日本語.txt': '日本\n',
      '-dash.txt': 'dash on a\n',
      '-dash.conflict-b-20240102-030405.txt': 'dash on b\n',
    }),
    ops: [
      'update b with space.txt done', 'remove a new\nline done', 'update a ünïcödé/日本語.txt done',
      'move b -dash.conflict-b-20240102-030405.txt done', 'copy b -dash.txt done', 'copy a -dash.conflict-b-20240102-030405.txt done',
    ],
  },

  {
    name: 'names that sort around "/" (o, o/x, o-1, o.txt, o0) new on both sides: merged in canonical order',
    init: I,
    editA: (s) => (s.write('o/x', 'a\n'), s.write('o.txt', 'a\n')),
    editB: (s) => (s.write('o/y', 'b\n'), s.write('o-1', 'b\n'), s.write('o0', 'b\n')),
    a: tree(I, { 'o/x': 'a\n', 'o/y': 'b\n', 'o.txt': 'a\n', 'o-1': 'b\n', o0: 'b\n' }),
    ops: ['agree - o done', 'copy b o/x done', 'copy a o/y done', 'copy a o-1 done', 'copy b o.txt done', 'copy a o0 done'],
  },
  {
    name: 'big files (9 MiB and more: copied concurrently) new on each side: carried across both ways',
    init: I,
    editA: (s) => (s.write('big-a1', bytesOf(6, 9 << 20)), s.write('big-a2', bytesOf(7, 9 << 20))),
    editB: (s) => s.write('big-b', bytesOf(8, 10 << 20)),
    a: tree(I, { 'big-a1': bytesOf(6, 9 << 20), 'big-a2': bytesOf(7, 9 << 20), 'big-b': bytesOf(8, 10 << 20) }),
    ops: ['copy b big-a1 done', 'copy b big-a2 done', 'copy a big-b done'],
  },

  {
    name: 'a name that is not UTF-8 in conflict, settled by --prefer a: the loser kept under its raw name on both sides',
    init: IODD,
    editA: (s) => s.write(F_FF, 'a wins\n', T2),
    editB: (s) => s.write(F_FF, 'b loses\n', T1),
    flags: ['--prefer', 'a'],
    a: tree(IODD, { [F_FF]: 'a wins\n', [raw('f', [0xff], '.conflict-b-20240102-030405.txt')]: 'b loses\n' }),
    ops: ['move b f\\xff.conflict-b-20240102-030405.txt done', 'copy b f\\xff.txt done', 'copy a f\\xff.conflict-b-20240102-030405.txt done'],
  },

  // ------------------------------------------------ safety rails
  {
    name: 'side B emptied entirely while the state has files: exit 2, nothing written, nothing touched',
    init: I,
    editA: (s) => s.write('n.txt', 'new\n'),
    editB: (s) => s.empty(),
    plan: 2,
    apply: 2,
    a: tree(I, { 'n.txt': 'new\n' }),
    b: {},
    ops: [],
  },
  {
    name: 'every file of A re-timed (a clock change): exit 2, nothing written',
    init: I12,
    editA: (s) => Object.keys(I12).forEach((p) => s.touch(p, T3)),
    plan: 2,
    apply: 2,
    a: I12,
    ops: [],
  },
  {
    name: 'every file of A re-timed, with --force: only the times are carried',
    init: I12,
    editA: (s) => Object.keys(I12).forEach((p) => s.touch(p, T3)),
    flags: ['--force'],
    a: I12,
    ops: Object.keys(I12).map((p) => `meta b ${p} done`),
  },
  {
    name: 'mass deletion on A over the default --max-delete (50%): exit 1, nothing written',
    init: I12,
    editA: rm12(7),
    plan: 1,
    apply: 2,
    a: without12(7),
    b: I12,
    ops: [],
  },
  {
    name: 'mass deletion on B over --max-delete 3 (a count): exit 1, nothing written',
    init: I12,
    editB: rm12(4),
    flags: ['--max-delete', '3'],
    plan: 1,
    apply: 2,
    a: I12,
    b: without12(4),
    ops: [],
  },
  {
    name: 'the same deletion within --max-delete 60% goes through',
    init: I12,
    editA: rm12(7),
    flags: ['--max-delete', '60%'],
    a: without12(7),
    ops: Array.from({ length: 7 }, (_, i) => `remove b n${String(i).padStart(2, '0')} done`),
  },
  {
    name: 'every file deleted on A with --max-delete off: deleted on B',
    init: I12,
    editA: rm12(11),
    flags: ['--max-delete', 'off'],
    a: without12(11),
    ops: Array.from({ length: 11 }, (_, i) => `remove b n${String(i).padStart(2, '0')} done`),
  },

  // ------------------------------------------------ --prefer: the loser kept under a conflict name on both sides
  {
    name: '--prefer newer: B wins, A\'s version kept as f.conflict-a-<its time>.txt on both sides',
    init: I,
    ...bothEditF,
    flags: ['--prefer', 'newer'],
    a: tree(I, { 'f.txt': B1, 'f.conflict-a-20240102-030405.txt': A1 }),
    ops: ['move a f.conflict-a-20240102-030405.txt done', 'copy a f.txt done', 'copy b f.conflict-a-20240102-030405.txt done'],
  },
  {
    name: '--prefer older: A wins, B\'s version kept',
    init: I,
    ...bothEditF,
    flags: ['--prefer', 'older'],
    a: tree(I, { 'f.txt': A1, 'f.conflict-b-20240506-070809.txt': B1 }),
    ops: ['move b f.conflict-b-20240506-070809.txt done', 'copy b f.txt done', 'copy a f.conflict-b-20240506-070809.txt done'],
  },
  {
    name: '--prefer a: A wins though older (a file without an extension, in a subdirectory)',
    init: I,
    editA: (s) => s.write('d/e/z', A1, T1),
    editB: (s) => s.write('d/e/z', B1, T2),
    flags: ['--prefer', 'a'],
    a: tree(I, { 'd/e/z': A1, 'd/e/z.conflict-b-20240506-070809': B1 }),
    ops: ['move b d/e/z.conflict-b-20240506-070809 done', 'copy b d/e/z done', 'copy a d/e/z.conflict-b-20240506-070809 done'],
  },
  {
    name: '--prefer b: B wins',
    init: I,
    ...bothEditF,
    flags: ['--prefer', 'b'],
    a: tree(I, { 'f.txt': B1, 'f.conflict-a-20240102-030405.txt': A1 }),
    ops: ['move a f.conflict-a-20240102-030405.txt done', 'copy a f.txt done', 'copy b f.conflict-a-20240102-030405.txt done'],
  },
  {
    name: '--prefer larger: the larger wins though older, the smaller is kept',
    init: I,
    editA: (s) => s.write('bin.dat', bytesOf(3, 9000), T1),
    editB: (s) => s.write('bin.dat', bytesOf(4, 100), T2),
    flags: ['--prefer', 'larger'],
    a: tree(I, { 'bin.dat': bytesOf(3, 9000), 'bin.conflict-b-20240506-070809.dat': bytesOf(4, 100) }),
    ops: ['move b bin.conflict-b-20240506-070809.dat done', 'copy b bin.dat done', 'copy a bin.conflict-b-20240506-070809.dat done'],
  },
  {
    name: '--prefer b with modified on A, deleted on B: the modification wins, restored on B',
    init: I,
    editA: (s) => s.write('f.txt', A1),
    editB: (s) => s.rm('f.txt'),
    flags: ['--prefer', 'b'],
    a: tree(I, { 'f.txt': A1 }),
    ops: ['copy b f.txt done'],
  },
  {
    name: '--prefer newer on new-on-both: names without an extension and dot files',
    init: I,
    editA: (s) => (s.write('notes', 'a notes\n', T1), s.write('.bashrc', 'a rc\n', T2)),
    editB: (s) => (s.write('notes', 'b notes\n', T2), s.write('.bashrc', 'b rc\n', T1)),
    flags: ['--prefer', 'newer'],
    a: tree(I, { notes: 'b notes\n', 'notes.conflict-a-20240102-030405': 'a notes\n', '.bashrc': 'a rc\n', '.bashrc.conflict-b-20240102-030405': 'b rc\n' }),
    ops: [
      'move b .bashrc.conflict-b-20240102-030405 done', 'copy b .bashrc done', 'copy a .bashrc.conflict-b-20240102-030405 done',
      'move a notes.conflict-a-20240102-030405 done', 'copy a notes done', 'copy b notes.conflict-a-20240102-030405 done',
    ],
  },
  {
    name: '--prefer b: a symlink on A loses to a file on B, and is kept as a symlink on both sides',
    init: I,
    editA: (s) => (s.rm('g.txt'), s.ln('d/x', 'g.txt'), s.touch('g.txt', T3)),
    editB: (s) => s.write('g.txt', B1, T1),
    flags: ['--prefer', 'b'],
    a: tree(I, { 'g.txt': B1, 'g.conflict-a-20250304-050607.txt': link('d/x') }),
    ops: ['move a g.conflict-a-20250304-050607.txt done', 'copy a g.txt done', 'symlink b g.conflict-a-20250304-050607.txt done'],
  },
  {
    name: '--prefer newer: a directory (made now) wins over an older file, which is kept on both sides',
    init: I,
    editA: (s) => s.write('n', 'a file\n', T2),
    editB: (s) => s.write('n/inner', 'in a dir\n', T1),
    flags: ['--prefer', 'newer'],
    apply: 0,
    a: tree(I, { 'n/inner': 'in a dir\n', 'n.conflict-a-20240506-070809': 'a file\n' }),
    b: tree(I, { 'n/inner': 'in a dir\n', 'n.conflict-a-20240506-070809': 'a file\n' }),
    ops: ['copy a n/inner done', 'copy b n.conflict-a-20240506-070809 done', 'meta a n done', 'mkdir a n done', 'move a n.conflict-a-20240506-070809 done'],
    state: [...IP, 'n', 'n.conflict-a-20240506-070809', 'n/inner'],
  },
  {
    name: '--prefer older: a file wins over a directory, which is kept whole under its conflict name and crosses on the next run',
    init: I,
    editA: (s) => s.write('n', 'a file\n', T1),
    editB: (s) => {
      s.write('n/inner', 'in a dir\n', T1);
      s.touch('n', T2);
    },
    flags: ['--prefer', 'older'],
    apply: 0,
    a: tree(I, { n: 'a file\n' }),
    b: tree(I, { n: 'a file\n', 'n.conflict-b-20240506-070809/inner': 'in a dir\n' }),
    ops: ['copy b n done', 'move b n.conflict-b-20240506-070809 done'],
    second: 'none',
    check: (A, B) => {
      // The next run carries the kept directory across, and then there is nothing left to do.
      const S = path.join(path.dirname(A), 'state.ndjson');
      const next = bisync(A, B, S);
      assert.deepEqual(next.codes, [0, 0, 0], next.stderr);
      assert.deepEqual(summary(next.results), ['copy a n.conflict-b-20240506-070809/inner done', 'meta a n.conflict-b-20240506-070809 done', 'mkdir a n.conflict-b-20240506-070809 done']);
      assertTree(A, tree(I, { n: 'a file\n', 'n.conflict-b-20240506-070809/inner': 'in a dir\n' }), 'side A after the next run');
      assert.deepEqual(summary(bisync(A, B, S).results), []);
    },
    state: [...IP, 'n'],
  },

  // ------------------------------------------------ conflicts persist until resolved
  {
    name: 'a conflict persists across runs, and is agreed once resolved by hand',
    init: I,
    ...bothEditF,
    apply: 1,
    a: tree(I, { 'f.txt': A1 }),
    b: tree(I, { 'f.txt': B1 }),
    ops: ['conflict - f.txt conflict'],
    state: IP,
    third: {
      editB: (s) => s.write('f.txt', A1, T1),
      ops: ['agree - f.txt done'],
      a: tree(I, { 'f.txt': A1 }),
    },
  },

  // ------------------------------------------------ first run (no state yet)
  {
    name: 'first run: disjoint trees are merged',
    first: { a: { 'f.txt': 'one\n', l: link('f.txt') }, b: { 'g.txt': 'two\n', 'd/x': 'x\n', empty: DIR } },
    a: { 'f.txt': 'one\n', l: link('f.txt'), 'g.txt': 'two\n', 'd/x': 'x\n', empty: DIR },
    ops: ['copy b f.txt done', 'symlink b l done', 'copy a g.txt done', 'mkdir a d done', 'copy a d/x done', 'meta a d done', 'mkdir a empty done', 'meta a empty done'],
  },
  {
    name: 'first run: identical trees are adopted with agree only',
    first: { a: { 'f.txt': { file: 'one\n', mtime: T1 }, 'd/x': { file: 'x\n', mtime: T2 } }, b: { 'f.txt': { file: 'one\n', mtime: T1 }, 'd/x': { file: 'x\n', mtime: T2 } } },
    a: { 'f.txt': 'one\n', 'd/x': 'x\n' },
    ops: ['agree - d done', 'agree - d/x done', 'agree - f.txt done'],
  },
  {
    name: 'first run: same path with different content is a conflict; the rest is synced; nothing deleted',
    first: { a: { 'f.txt': 'a version\n', 'g.txt': 'only a\n', x: 'a file\n' }, b: { 'f.txt': 'b version\n', 'h.txt': 'only b\n', 'x/inner': 'in a dir\n' } },
    apply: 1,
    a: { 'f.txt': 'a version\n', 'g.txt': 'only a\n', 'h.txt': 'only b\n', x: 'a file\n' },
    b: { 'f.txt': 'b version\n', 'g.txt': 'only a\n', 'h.txt': 'only b\n', 'x/inner': 'in a dir\n' },
    ops: ['conflict - f.txt conflict', 'copy b g.txt done', 'copy a h.txt done', 'conflict - x conflict'],
    state: ['g.txt', 'h.txt'],
  },
  {
    name: 'first run: an empty B is filled (no empty-side abort without a state)',
    first: { a: I, b: {} },
    a: I,
    ops: [
      'copy b bin.dat done', 'mkdir b d done', 'mkdir b d/e done', 'copy b d/e/z done', 'meta b d/e done', 'copy b d/x done', 'copy b d/y done', 'meta b d done',
      'mkdir b empty done', 'meta b empty done', 'copy b f.txt done', 'copy b g.txt done', 'symlink b l done',
    ],
  },
  {
    name: 'first run with --prefer newer: the older version kept on both sides',
    first: { a: { 'f.txt': { file: A1, mtime: T1 } }, b: { 'f.txt': { file: B1, mtime: T2 } } },
    flags: ['--prefer', 'newer'],
    a: { 'f.txt': B1, 'f.conflict-a-20240102-030405.txt': A1 },
    ops: ['move a f.conflict-a-20240102-030405.txt done', 'copy a f.txt done', 'copy b f.conflict-a-20240102-030405.txt done'],
  },
];

// ---------------------------------------------------------------- the runner

function statePaths(file: string): string[] {
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
  return lines
    .map((l) => JSON.parse(l) as { path?: string; path_b64?: string })
    .filter((r) => r.path !== undefined)
    .map((r) => (r.path_b64 !== undefined ? `raw:${Buffer.from(r.path_b64, 'base64').toString('hex')}` : r.path!))
    .sort();
}

const conflictsOf = (r: BisyncRun) => r.results.filter((x) => x.op === 'conflict').map((x) => ({ path: x.path, why: x.why }));

function said(r: BisyncRun): string {
  return `\nexit codes ${r.codes.join(' ')}\nstderr:\n${r.stderr}\nresults:\n${r.results.map((x) => JSON.stringify(x)).join('\n')}`;
}

/** Where a case's pair lives. */
function newCasePair(): { A: string; B: string; S: string } {
  const { a, b, state } = newPair();
  return { A: a, B: b, S: state };
}

/**
 * Each initial tree is synced once, by a real first run, and checked; a run
 * right after it must have nothing to do (the "nothing changed" case). Every
 * case on that tree starts from a copy (cp -a keeps times, modes and links)
 * of both sides and the state, whose header then names the copy's roots:
 * one run less per case keeps the table within its time budget.
 */
const synced = new Map<Tree, Promise<{ A: string; B: string; S: string }>>();
function syncedOnce(init: Tree): Promise<{ A: string; B: string; S: string }> {
  let p = synced.get(init);
  if (p === undefined) {
    p = (async () => {
      const t = newCasePair();
      makeTree(t.A, init);
      const r0 = await bisyncAsync(t.A, t.B, t.S);
      assert.deepEqual(r0.codes, [0, 0, 0], `the first sync${said(r0)}`);
      assertTree(t.B, init, 'B after the first sync');
      assert.deepEqual(statePaths(t.S), [...normalize(init).keys()].sort(), 'the state after the first sync');
      const r1 = await bisyncAsync(t.A, t.B, t.S);
      assert.deepEqual([r1.codes, summary(r1.results)], [[0, 0, 0], []], `a run right after the first sync has nothing to do${said(r1)}`);
      return t;
    })();
    synced.set(init, p);
  }
  return p;
}

function copyPair(from: { A: string; B: string; S: string }, to: { A: string; B: string; S: string }): void {
  execFileSync('cp', ['-a', `${from.A}/.`, to.A]);
  execFileSync('cp', ['-a', `${from.B}/.`, to.B]);
  const [head, ...rest] = fs.readFileSync(from.S, 'utf8').split('\n');
  const h = JSON.parse(head!) as { root: string; pair: { a: string; b: string } };
  assert.deepEqual([h.root, h.pair], [from.A, { a: from.A, b: from.B }], 'the state header names the pair');
  fs.writeFileSync(to.S, [JSON.stringify({ ...h, root: to.A, pair: { a: to.A, b: to.B } }), ...rest].join('\n'));
}

async function runCase(c: Case): Promise<void> {
  const pair = newCasePair();
  const { A, B, S } = pair;
  if (c.first !== undefined) {
    makeTree(A, c.first.a);
    makeTree(B, c.first.b);
  } else {
    copyPair(await syncedOnce(c.init!), pair);
  }
  c.editA?.(new Ed(A));
  c.editB?.(new Ed(B));
  const stateBefore = fs.existsSync(S) ? fs.readFileSync(S) : undefined;

  const plan = c.plan ?? 0;
  const hasConflict = c.ops.some((l) => l.startsWith('conflict '));
  const r = await bisyncAsync(A, B, S, c.flags ?? []);
  assert.deepEqual(r.codes, [0, plan, c.apply ?? (hasConflict ? 1 : 0)], `exit codes of diff, plan, apply${said(r)}`);
  assert.deepEqual(summary(r.results), [...c.ops].sort(), `results${said(r)}`);
  const wantB = c.b ?? c.a;
  assertTree(A, c.a, `side A${said(r)}`);
  assertTree(B, wantB, `side B${said(r)}`);
  assert.ok(!fs.existsSync(`${S}.lock`), 'the lock is released');
  if (plan === 0 && !hasConflict) assert.equal(r.stderr, '', 'nothing to say');
  if (plan !== 0) {
    assert.match(r.stderr, /nothing (planned|written)/, 'the refusal says nothing was done');
    assert.deepEqual(fs.existsSync(S) ? fs.readFileSync(S) : undefined, stateBefore, 'the state is untouched');
  } else if (c.state !== undefined) {
    assert.deepEqual(statePaths(S), [...c.state].sort(), 'the paths the state records');
  } else if (!hasConflict) {
    assert.deepEqual(statePaths(S), [...normalize(c.a).keys()].sort(), 'the state records the agreed tree');
  }
  c.check?.(A, B);

  const second = c.second ?? (plan !== 0 ? 'none' : hasConflict ? 'conflicts' : 'nothing');
  if (second === 'none') return;
  const r2 = await bisyncAsync(A, B, S, c.flags ?? []);
  if (second === 'nothing') {
    assert.deepEqual(r2.codes, [0, 0, 0], `second run: exit codes${said(r2)}`);
    assert.deepEqual(summary(r2.results), [], `second run: nothing to do${said(r2)}`);
  } else if (second === 'conflicts') {
    assert.deepEqual(r2.codes, [0, 0, 1], `second run: exit codes${said(r2)}`);
    assert.deepEqual(summary(r2.results), c.ops.filter((l) => l.startsWith('conflict ')).sort(), `second run: the same conflicts and nothing else${said(r2)}`);
    assert.deepEqual(conflictsOf(r2), conflictsOf(r), 'second run: the same conflicts, for the same reasons');
  }
  assertTree(A, c.a, `side A after the second run${said(r2)}`);
  assertTree(B, wantB, `side B after the second run${said(r2)}`);

  if (c.third !== undefined) {
    c.third.editA?.(new Ed(A));
    c.third.editB?.(new Ed(B));
    const r3 = await bisyncAsync(A, B, S, c.flags ?? []);
    assert.deepEqual(r3.codes, [0, 0, 0], `third run: exit codes${said(r3)}`);
    assert.deepEqual(summary(r3.results), [...c.third.ops].sort(), `third run${said(r3)}`);
    assertTree(A, c.third.a, `side A after the third run${said(r3)}`);
    assertTree(B, c.third.b ?? c.third.a, `side B after the third run${said(r3)}`);
    const r4 = await bisyncAsync(A, B, S, c.flags ?? []);
    assert.deepEqual([r4.codes, summary(r4.results)], [[0, 0, 0], []], `fourth run: nothing to do${said(r4)}`);
  }
}

// Each pair is independent; two at a time keep both CPUs of a small machine busy.
describe('bisync scenarios', { concurrency: 2 }, () => {
  for (const c of cases) it(c.name, () => runCase(c));
});
