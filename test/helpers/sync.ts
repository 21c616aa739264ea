import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import type { TestContext } from 'node:test';
import { BIN, ROOT, records, tempDir, type RunResult } from './run';

export { TEMP_PREFIX } from '../../lib/records/types';
import { TEMP_PREFIX } from '../../lib/records/types';

/** Like sh() of ./run, with room for big outputs (a plan of thousands of actions). */
export function bash(script: string): RunResult {
  const r = spawnSync('bash', ['-c', script], {
    encoding: 'utf8',
    cwd: ROOT,
    maxBuffer: 1 << 30,
    env: { ...process.env, PATH: `${BIN}:${process.env.PATH}` },
  });
  if (r.error) throw r.error;
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** A word for bash, quoted. */
export function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export { prng } from './prng';

/** The hex digest of `data` by code nobody here wrote: node's OpenSSL, or b3sum(1) for BLAKE3. */
export function hashOf(alg: string, data: Buffer): string {
  if (alg !== 'blake3') return createHash(alg).update(data).digest('hex');
  const r = spawnSync('b3sum', ['--no-names'], { input: data, encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.error) throw r.error;
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

/** Bytes that depend only on (seed, size): reproducible, incompressible file content. */
export function bytesOf(seed: number, size: number): Buffer {
  const out = Buffer.alloc(Math.ceil(size / 4) * 4);
  let x = (seed * 2654435761 + 1) >>> 0 || 1;
  for (let off = 0; off < out.length; off += 4) {
    // xorshift32
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out.writeUInt32LE(x, off);
  }
  return out.subarray(0, size);
}

export interface PipeResult {
  /** Exit codes of each stage, in order. */
  codes: number[];
  /** stderr of each stage, in order. */
  stderr: string[];
  /** stdout of the last stage. */
  stdout: string;
}

/**
 * Runs a bash pipeline of real cairn commands (bin/ is first on PATH), each
 * stage's stderr kept apart, and returns every stage's exit status.
 */
export function pipeline(stages: string[]): PipeResult {
  const errDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-pipe-'));
  try {
    const errs = stages.map((_, i) => path.join(errDir, String(i)));
    const script = `${stages.map((s, i) => `${s} 2>${q(errs[i]!)}`).join(' | ')}; echo "\${PIPESTATUS[*]}" >${q(path.join(errDir, 'codes'))}`;
    const r = bash(script);
    assert.equal(r.stderr, '', 'bash itself complained');
    const codes = fs.readFileSync(path.join(errDir, 'codes'), 'utf8').trim().split(' ').map(Number);
    return { codes, stderr: errs.map((e) => fs.readFileSync(e, 'utf8')), stdout: r.stdout };
  } finally {
    fs.rmSync(errDir, { recursive: true, force: true });
  }
}

/** `cairn-diff SRC DST | cairn-plan --mirror --max-delete=off [extra]`: the plan text. */
export function planMirror(src: string, dst: string, extra: string[] = []): string {
  const r = pipeline([`cairn-diff ${q(src)} ${q(dst)}`, `cairn-plan --mirror --max-delete=off ${extra.map(q).join(' ')}`]);
  assert.deepEqual(r.codes, [0, 0], `diff|plan failed: ${r.stderr.join('')}`);
  assert.deepEqual(r.stderr, ['', '']);
  return r.stdout;
}

/** `cairn-diff SRC DST | cairn-plan --mirror --max-delete=off | cairn-apply`, which must succeed quietly. */
export function mirror(src: string, dst: string): PipeResult {
  const r = pipeline([`cairn-diff ${q(src)} ${q(dst)}`, 'cairn-plan --mirror --max-delete=off', 'cairn-apply']);
  assert.deepEqual(r.codes, [0, 0, 0], `diff|plan|apply exit codes; stderr: ${r.stderr.join('')}`);
  assert.deepEqual(r.stderr, ['', '', ''], 'diff|plan|apply stderr');
  const recs = records(r.stdout);
  assert.equal(recs[0]!.cairn, 'results');
  assert.deepEqual(recs.at(-1), { cairn: 'end' });
  for (const a of recs.slice(1, -1)) assert.equal(a.status, 'done', JSON.stringify(a));
  return r;
}

/** The actions of a plan text (header and end record checked and dropped). */
export function actionsOf(plan: string): Record<string, unknown>[] {
  const recs = records(plan);
  assert.equal(recs[0]!.cairn, 'plan');
  assert.equal(recs.at(-1)!.cairn, 'end');
  return recs.slice(1, -1);
}

/** A plan that holds only its header and end record. */
export function assertNoActions(plan: string, what = 'the plan'): void {
  const actions = actionsOf(plan);
  assert.deepEqual(actions, [], `${what} should have no actions, has ${actions.length}: ${actions.slice(0, 5).map((a) => JSON.stringify(a)).join('\n')}`);
}

/** What `rsync -aniH --delete --checksum SRC/ DST/` would change: empty for an exact mirror. */
export function rsyncDifferences(src: string, dst: string): string {
  const r = bash(`rsync -aniH --delete --checksum ${q(src)}/ ${q(dst)}/`);
  assert.equal(r.code, 0, `rsync: ${r.stderr}`);
  return r.stdout;
}

export interface Obj {
  type: 'file' | 'dir' | 'symlink' | 'other';
  /** sha256 of a file's content. */
  hash?: string;
  size?: number;
  target?: string;
}

/** Every object under root (root itself excluded), by relative path. */
export function snapshot(root: string): Map<string, Obj> {
  const out = new Map<string, Obj>();
  const walk = (rel: string) => {
    for (const d of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const r = rel === '' ? d.name : `${rel}/${d.name}`;
      const abs = path.join(root, r);
      if (d.isDirectory()) {
        out.set(r, { type: 'dir' });
        walk(r);
      } else if (d.isFile()) {
        const data = fs.readFileSync(abs);
        out.set(r, { type: 'file', size: data.length, hash: createHash('sha256').update(data).digest('hex') });
      } else if (d.isSymbolicLink()) {
        out.set(r, { type: 'symlink', target: fs.readlinkSync(abs) });
      } else out.set(r, { type: 'other' });
    }
  };
  walk('');
  return out;
}

/** Relative paths of cairn's temporary objects under root. */
export function tempLeftovers(root: string): string[] {
  return [...snapshot(root).keys()].filter((r) => path.basename(r).startsWith(TEMP_PREFIX));
}

/** Regular files of a snapshot that are neither of the wanted contents: partial, truncated or foreign. */
export function badFiles(dst: Map<string, Obj>, ...allowed: Map<string, Obj>[]): string[] {
  const bad: string[] = [];
  for (const [rel, o] of dst) {
    if (path.basename(rel).startsWith(TEMP_PREFIX)) continue;
    const ok = allowed.some((m) => {
      const w = m.get(rel);
      if (w === undefined || w.type !== o.type) return false;
      if (o.type === 'file') return w.hash === o.hash;
      if (o.type === 'symlink') return w.target === o.target;
      return o.type === 'dir';
    });
    if (!ok) {
      const want = allowed.map((m) => m.get(rel)).filter((w) => w !== undefined);
      bad.push(`${rel}: ${o.type}${o.size !== undefined ? ` of ${o.size} bytes` : ''}${o.target !== undefined ? ` -> ${o.target}` : ''}` +
        ` (allowed: ${want.length === 0 ? 'nothing, no such object in source or old destination' : want.map((w) => `${w!.type}${w!.size !== undefined ? ` of ${w!.size} bytes` : ''}`).join(' or ')})`);
    }
  }
  return bad;
}

/**
 * Mounts a fresh 16 MiB FAT16 image through fusefat (as test/scan/fat.test.ts
 * does), or says why that cannot be done here. The kernel keeps no
 * attribute cache for it (attr_timeout=0): a stat shows what fusefat holds
 * now, not what it answered up to a second ago.
 */
export function mountFat(): { dir: string; unmount: () => void } | string {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-fat-'));
  const img = path.join(work, 'fat.img');
  const dir = path.join(work, 'mnt');
  fs.mkdirSync(dir);
  const made = bash(`command -v mkfs.vfat >/dev/null && command -v fusefat >/dev/null && truncate -s 16M ${q(img)} && mkfs.vfat ${q(img)} >/dev/null && fusefat -o rw+,attr_timeout=0,entry_timeout=0 ${q(img)} ${q(dir)} >/dev/null`);
  if (made.code !== 0) {
    fs.rmSync(work, { recursive: true, force: true });
    return `no FAT here (mkfs.vfat, fusefat and /dev/fuse are needed): ${made.stderr.trim() || `exit ${made.code}`}`;
  }
  const mounted = () => fs.readFileSync('/proc/mounts', 'utf8').includes(` ${dir} `);
  // fusefat answers before the kernel shows the mount.
  for (let i = 0; i < 50 && !mounted(); i++) bash('sleep 0.1');
  if (!mounted()) return 'fusefat did not mount';
  return {
    dir,
    unmount: () => {
      // fusermount -u also clears a mount whose fusefat died.
      bash(`fusermount -u ${q(dir)} 2>/dev/null || umount -l ${q(dir)}`);
      if (!mounted()) fs.rmSync(work, { recursive: true, force: true });
    },
  };
}

/** Runs `fn` on a fresh FAT mount, unmounted afterwards; skips the test where FAT cannot be mounted. */
export async function withFat(t: TestContext, fn: (dir: string) => void | Promise<void>): Promise<void> {
  const fat = mountFat();
  if (typeof fat === 'string') {
    t.skip(fat);
    return;
  }
  try {
    await fn(fat.dir);
  } finally {
    fat.unmount();
  }
}

/** A fresh base directory holding empty src/ and dst/. */
export function srcDst(): { base: string; src: string; dst: string } {
  const base = tempDir();
  const src = path.join(base, 'src');
  const dst = path.join(base, 'dst');
  fs.mkdirSync(src);
  fs.mkdirSync(dst);
  return { base, src, dst };
}

/**
 * diff | plan --mirror | apply with the plan saved beside DST: the plan's
 * actions and the pipeline's exit status, for tests that look at both.
 */
export function mirrorPlanned(src: string, dst: string, planFlags = '--max-delete=off'): { actions: Record<string, unknown>[]; code: number | null; stderr: string } {
  const plan = path.join(path.dirname(dst), 'plan.ndjson');
  const r = bash(`set -o pipefail; cairn-diff ${q(src)} ${q(dst)} | cairn-plan --mirror ${planFlags} > ${q(plan)} && cairn-apply ${q(plan)} > /dev/null`);
  const actions = records(fs.readFileSync(plan, 'utf8')).filter((x) => typeof x.op === 'string');
  return { actions, code: r.code, stderr: r.stderr };
}
