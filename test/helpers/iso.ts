import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The two ISO 9660 writers cairn-graft writes lists for. */
export type IsoTool = 'xorriso' | 'genisoimage';
export const ISO_TOOLS: readonly IsoTool[] = ['xorriso', 'genisoimage'];

/** The options the budget of cairn-plan --archive --format iso is measured for (and the man page recommends). */
export const MKISOFS_OPTIONS = ['-R', '-J', '-joliet-long', '-D', '-iso-level', '3', '-graft-points'] as const;

export interface ToolRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runTool(cmd: string, args: string[]): ToolRun {
  const r = spawnSync(cmd, args, { encoding: 'latin1', maxBuffer: 1 << 28 });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `xorriso -as mkisofs OPTIONS -path-list LIST ...` or `genisoimage OPTIONS -path-list LIST ...`. */
export function mkisofs(tool: IsoTool, list: string, more: string[]): ToolRun {
  const args = [...MKISOFS_OPTIONS, '-path-list', list, ...more];
  return tool === 'xorriso' ? runTool('xorriso', ['-as', 'mkisofs', ...args]) : runTool('genisoimage', args);
}

/** Builds the image of a graft-points list; fails the test when the tool refuses the list. Returns the image size. */
export function buildIso(tool: IsoTool, list: string, iso: string): number {
  const r = mkisofs(tool, list, ['-o', iso]);
  assert.equal(r.code, 0, `${tool} refused the list ${list}:\n${r.stderr.slice(-3000)}`);
  return fs.statSync(iso).size;
}

/** Extracts every object of an image into dir (created), with osirrox (Rock Ridge) or bsdtar. Leaves dir writable. */
export function extractIso(iso: string, dir: string, via: 'osirrox' | 'bsdtar'): void {
  let r: ToolRun;
  if (via === 'osirrox') {
    r = runTool('osirrox', ['-indev', iso, '-extract', '/', dir]);
  } else {
    fs.mkdirSync(dir);
    // -P: else bsdtar strips a leading `\` from names (as if they were Windows paths)
    r = runTool('bsdtar', ['-xPf', iso, '-C', dir]);
  }
  assert.equal(r.code, 0, `${via} could not extract ${iso}:\n${r.stderr.slice(-3000)}`);
  // osirrox gives directories the image's modes (often r-x): make them writable so the temp dir can go.
  spawnSync('chmod', ['-R', 'u+rwX', dir]);
}

export interface IsoObj {
  type: 'file' | 'dir' | 'symlink' | 'other';
  size?: number;
  /** `sha256:<hex>` of a file's content. */
  hash?: string;
  /** a symlink's target, raw bytes as latin1. */
  target?: string;
  /** permission bits of a file. */
  mode?: number;
  /** whole seconds of a file's mtime. */
  mtimeSec?: number;
}

/** Raw name bytes <-> map key: latin1 keeps every byte (names are not always UTF-8). */
export const keyOf = (b: Buffer): string => b.toString('latin1');
export const rawOf = (key: string): Buffer => Buffer.from(key, 'latin1');
/** A key for messages: UTF-8 where it is, escapes elsewhere. */
export const show = (key: string): string => JSON.stringify(rawOf(key).toString('utf8'));

export function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Every object under root (root excluded), keyed by the raw relative path (latin1). */
export function rawSnapshot(root: string): Map<string, IsoObj> {
  const out = new Map<string, IsoObj>();
  const walk = (rel: Buffer | undefined): void => {
    const dir = rel === undefined ? Buffer.from(root) : Buffer.concat([Buffer.from(`${root}/`), rel]);
    for (const name of fs.readdirSync(dir, { encoding: 'buffer' })) {
      const r = rel === undefined ? name : Buffer.concat([rel, Buffer.from('/'), name]);
      const abs = Buffer.concat([Buffer.from(`${root}/`), r]);
      const st = fs.lstatSync(abs);
      if (st.isDirectory()) {
        out.set(keyOf(r), { type: 'dir' });
        walk(r);
      } else if (st.isFile()) {
        const data = fs.readFileSync(abs);
        out.set(keyOf(r), { type: 'file', size: data.length, hash: sha256(data), mode: st.mode & 0o7777, mtimeSec: Math.floor(st.mtimeMs / 1000) });
      } else if (st.isSymbolicLink()) {
        out.set(keyOf(r), { type: 'symlink', target: keyOf(fs.readlinkSync(abs, { encoding: 'buffer' })) });
      } else out.set(keyOf(r), { type: 'other' });
    }
  };
  walk(undefined);
  return out;
}

/** A snapshot reduced to what a medium carries: files (content, mode), symlinks, dirs; fifos and the like dropped. */
export function contentOf(snap: Map<string, IsoObj>, withMode = true): Map<string, IsoObj> {
  const out = new Map<string, IsoObj>();
  for (const [k, o] of snap) {
    if (o.type === 'other') continue;
    if (o.type === 'file') out.set(k, withMode ? { type: 'file', size: o.size, hash: o.hash, mode: o.mode } : { type: 'file', size: o.size, hash: o.hash });
    else out.set(k, o.type === 'symlink' ? { type: 'symlink', target: o.target } : { type: 'dir' });
  }
  return out;
}

/** Sorted [key, obj] pairs, for deepEqual with readable diffs. */
export function sorted(m: Map<string, IsoObj>): [string, IsoObj][] {
  return [...m].sort(([a], [b]) => Buffer.compare(rawOf(a), rawOf(b)));
}

export interface DescriptorRecord {
  path: string;
  path_b64?: string;
  type?: string;
  size?: number;
  mtime?: string;
  mode?: string;
  target?: string;
  target_b64?: string;
  hash?: string;
  tombstone?: boolean;
  part?: { offset: number; size: number; hash: string };
}

export interface Descriptor {
  header: Record<string, unknown>;
  records: DescriptorRecord[];
}

export function readDescriptor(file: string): Descriptor {
  const text = fs.readFileSync(file, 'utf8');
  assert.ok(text.endsWith('\n'), `${file} does not end with a newline`);
  const lines = text.slice(0, -1).split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(lines[0]!.cairn, 'volume', `${file}: header`);
  assert.deepEqual(lines[lines.length - 1], { cairn: 'end' }, `${file}: end record`);
  return { header: lines[0]!, records: lines.slice(1, -1) as unknown as DescriptorRecord[] };
}

export const recordKey = (r: DescriptorRecord): string =>
  r.path_b64 !== undefined ? keyOf(Buffer.from(r.path_b64, 'base64')) : keyOf(Buffer.from(r.path, 'utf8'));

/** Name of the member of a part: `<path>.cairn-part-<offset, 15 digits>`. */
export function partKey(key: string, offset: number): string {
  return `${key}.cairn-part-${String(offset).padStart(15, '0')}`;
}

/**
 * Checks an extracted volume against the descriptor it carries in .cairn/:
 * `.cairn/` holds this volume's descriptor and every earlier one, each equal
 * to the catalog's file byte for byte; every file (or part) the descriptor
 * records is in the image with its size and hash (and, unless a part, mode and mtime seconds),
 * every symlink with its target, every directory; fifos and devices are not;
 * and nothing else is in the image. Returns the objects of the volume
 * (without .cairn).
 */
export function checkVolume(extracted: string, catalog: string, volume: number, opts: { modes?: boolean } = {}): Map<string, IsoObj> {
  const snap = rawSnapshot(extracted);
  const name = (n: number): string => `vol-${String(n).padStart(4, '0')}.ndjson`;
  const cairn = [...snap.keys()].filter((k) => k === '.cairn' || k.startsWith('.cairn/')).sort();
  assert.deepEqual(cairn, ['.cairn', ...Array.from({ length: volume }, (_, i) => `.cairn/${name(i + 1)}`)], `volume ${volume}: .cairn/ members`);
  for (let n = 1; n <= volume; n++) {
    assert.ok(fs.readFileSync(path.join(extracted, '.cairn', name(n))).equals(fs.readFileSync(path.join(catalog, name(n)))),
      `volume ${volume}: .cairn/${name(n)} differs from the catalog's`);
  }
  const d = readDescriptor(path.join(extracted, '.cairn', name(volume)));
  assert.equal(d.header.volume, volume);
  const objects = new Map([...snap].filter(([k]) => k !== '.cairn' && !k.startsWith('.cairn/')));
  const seen = new Set<string>();
  for (const r of d.records) {
    if (r.tombstone === true) continue;
    const k = recordKey(r);
    if (r.type === 'file') {
      const mk = r.part !== undefined ? partKey(k, r.part.offset) : k;
      const o = objects.get(mk);
      assert.ok(o !== undefined, `volume ${volume}: ${show(mk)} is in the descriptor, not in the image (the image holds ${[...objects.keys()].map(show).join(', ')})`);
      const want: IsoObj = r.part !== undefined
        ? { type: 'file', size: r.part.size, hash: r.part.hash }
        : { type: 'file', size: r.size!, hash: r.hash! };
      const got: IsoObj = { type: o.type, size: o.size, hash: o.hash };
      // a part is a spool file: its mode and time are the spool's, the descriptor has the source's
      if (opts.modes !== false && r.part === undefined) {
        want.mode = parseInt(r.mode!, 8);
        want.mtimeSec = Math.floor(Date.parse(`${r.mtime!.slice(0, 19)}Z`) / 1000);
        got.mode = o.mode;
        got.mtimeSec = o.mtimeSec;
      }
      assert.deepEqual(got, want, `volume ${volume}: ${show(mk)} in the image vs. its descriptor record`);
      seen.add(mk);
    } else if (r.type === 'symlink') {
      const target = r.target_b64 !== undefined ? keyOf(Buffer.from(r.target_b64, 'base64')) : keyOf(Buffer.from(r.target!, 'utf8'));
      assert.deepEqual(objects.get(k), { type: 'symlink', target }, `volume ${volume}: symlink ${show(k)}`);
      seen.add(k);
    } else if (r.type === 'dir') {
      assert.equal(objects.get(k)?.type, 'dir', `volume ${volume}: directory ${show(k)} is in the descriptor, not in the image`);
      seen.add(k);
    } else {
      assert.equal(objects.get(k), undefined, `volume ${volume}: ${r.type} ${show(k)} is not grafted (the descriptor restores it)`);
    }
  }
  const extra = [...objects.keys()].filter((k) => !seen.has(k)).map(show);
  assert.deepEqual(extra, [], `volume ${volume}: objects in the image that its descriptor does not record`);
  return objects;
}

/** Every name in a directory (recursively) with its content hash: to show that a failed command changed nothing. */
export function dirState(dir: string): string[] {
  if (!fs.existsSync(dir)) return ['(absent)'];
  return sorted(rawSnapshot(dir)).map(([k, o]) => `${show(k)} ${o.type} ${o.hash ?? ''}`);
}
