import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UsageError, describeSystemError } from '../cli/errors';
import { listCatalog } from '../catalog/names';
import { openTar } from './byte-source';
import { TarError, TarReader } from './tar-read';

/** A medium as given: a directory holding a volume, or a volume tar. */
export interface Medium {
  kind: 'dir' | 'tar';
  path: string;
  volume: number;
}

const DESCRIPTOR_RE = /^\.?\/?\.cairn\/(vol-(\d{4,})\.ndjson(?:\.gz)?)$/;

/** The volume a medium holds: the newest descriptor in its `.cairn/` (a tar: its first descriptor member). */
export async function identify(p: string): Promise<Medium> {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch (err) {
    throw new UsageError(`--media ${p}`, describeSystemError(err));
  }
  if (st.isDirectory()) {
    if (!fs.existsSync(path.join(p, '.cairn'))) throw new UsageError(`--media ${p}`, 'no .cairn/ in it: not a cairn medium');
    const files = listCatalog(path.join(p, '.cairn'));
    if (files.length === 0) throw new UsageError(`--media ${p}`, 'no .cairn/ volume descriptor in it: not a cairn medium');
    return { kind: 'dir', path: path.resolve(p), volume: files[files.length - 1]!.volume };
  }
  const reader = new TarReader(await openTar(p));
  try {
    for (let i = 0; i < 3; i++) {
      const m = await reader.next();
      if (m === undefined) break;
      const hit = DESCRIPTOR_RE.exec(m.name.toString('latin1'));
      if (hit) return { kind: 'tar', path: path.resolve(p), volume: Number(hit[2]) };
    }
  } catch (err) {
    if (err instanceof TarError) throw new UsageError(`--media ${p}`, `not a tar: ${err.message}`);
    throw err;
  }
  throw new UsageError(`--media ${p}`, 'does not start with .cairn/ and its descriptor: not a volume of cairn-pack');
}

/**
 * A catalog directory made from a medium's `.cairn/` (every descriptor up to
 * its volume): the directory itself for a mounted medium, or the members
 * copied out of a volume tar into a temporary directory.
 */
export async function catalogOf(m: Medium): Promise<{ dir: string; done: () => void }> {
  if (m.kind === 'dir') return { dir: path.join(m.path, '.cairn'), done: () => {} };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-catalog-'));
  const reader = new TarReader(await openTar(m.path));
  for (;;) {
    const member = await reader.next();
    if (member === undefined) break;
    const hit = DESCRIPTOR_RE.exec(member.name.toString('latin1'));
    if (!hit) {
      if (/^\.?\/?\.cairn\/?$/.test(member.name.toString('latin1'))) continue;
      break; // past .cairn/: the catalog is complete
    }
    const chunks: Buffer[] = [];
    await reader.content((c) => chunks.push(Buffer.from(c)));
    fs.writeFileSync(path.join(dir, hit[1]!), Buffer.concat(chunks));
  }
  return { dir, done: () => fs.rmSync(dir, { recursive: true, force: true }) };
}


/**
 * Asks the mounter for a volume (the sync2cd contract): `CMD DESCRIPTOR`,
 * which prints the mount point. Volume 0 at the end: eject the last disc.
 */
export function mount(cmd: string, descriptor: string): { dir?: string; error?: string } {
  const r = spawnSync('sh', ['-c', `${cmd} "$1"`, 'sh', descriptor], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.error) return { error: r.error.message };
  if (r.status !== 0) return { error: `the mounter exited with status ${r.status ?? r.signal}` };
  const dir = r.stdout.split('\n')[0]!.trim();
  return dir === '' ? { error: 'the mounter printed no mount point' } : { dir };
}

/** A descriptor of volume 0: what the mounter gets last, to eject the last disc. */
export function ejectDescriptor(): { file: string; done: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-eject-'));
  const file = path.join(dir, 'vol-0000.ndjson');
  fs.writeFileSync(file, `${JSON.stringify({ cairn: 'volume', version: 1, volume: 0, eject: true })}\n{"cairn":"end"}\n`);
  return { file, done: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
