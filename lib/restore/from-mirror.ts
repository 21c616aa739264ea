import * as fs from 'node:fs';
import { isLocation, openScan, openStream } from '../diff/open-side';
import { requireAlg } from '../hash/digest';
import { Bucket, DEFAULT_JOBS, DEFAULT_TRIES } from '../tree/s3/bucket';
import { isS3, keyOf, parseS3 } from '../tree/s3/location';
import type { EntriesReader } from '../diff/diff';
import { rawBytes, splitRdev } from '../pack/member';
import { MORE } from '../records/stream-reader';
import { timeParts } from '../records/time';
import type { Entry } from '../records/types';
import { destCaps, destination } from './run';
import { IS_ROOT } from '../tree/local/write';
import { Report } from './report';
import { Restorer, type Item, type Outcome } from './restorer';
import type { RestoreOptions } from './run';
import type { Selector } from './select';

/** One read buffer for every file: the restorer writes and hashes each chunk before the next read. */
const READ_BUF = Buffer.allocUnsafe(1 << 20);

function itemOf(e: Entry): Item {
  const [sec, nsec] = timeParts(e.mtime);
  const item: Item = {
    name: rawBytes(e.path, e.path_b64),
    type: e.type as Item['type'],
    size: e.size ?? 0,
    mode: parseInt(e.mode ?? '0644', 8),
    uid: e.uid ?? 0,
    gid: e.gid ?? 0,
    mtimeSec: sec,
    mtimeNsec: nsec,
  };
  if (e.type === 'symlink') item.link = rawBytes(e.target ?? '', e.target_b64);
  if (e.hash !== undefined) item.hash = e.hash;
  if ((e.type === 'char' || e.type === 'block') && e.rdev !== undefined) {
    const d = splitRdev(e.rdev);
    item.devmajor = d.major;
    item.devminor = d.minor;
  }
  return item;
}

/**
 * cairn-restore --from: a mirror (a directory, scanned here, or an entries
 * stream whose root is the mirror) as the source. Files are checked against
 * the hashes of the stream when it has them; hard links are made again.
 */
export async function restoreMirror(o: RestoreOptions, select: Selector, from: string): Promise<{ attention: boolean }> {
  let reader: EntriesReader;
  if (isLocation(from)) {
    const side = { hash: null, follow: false, oneFileSystem: false, rules: [], tool: o.tool, threads: 0, warn: o.warn, ...(o.s3 !== undefined ? { s3: o.s3 } : {}), ...(o.interrupted !== undefined ? { interrupted: o.interrupted } : {}) };
    reader = (await openScan(from, side)).reader;
  } else reader = await openStream(from);
  const root = reader.header.root;
  // Files are checked against the stream's hashes: refused before anything is written if they cannot be.
  requireAlg(reader.header.hash, from);
  // A mirror in object storage: files are downloaded, and checked against the hash in their metadata.
  const bucket = isS3(root) ? Bucket.open(parseS3(root), o.s3 ?? { jobs: DEFAULT_JOBS, tries: DEFAULT_TRIES }) : undefined;
  try {
    return await restoreEntries(o, select, reader, root, bucket);
  } finally {
    bucket?.close();
  }
}

async function restoreEntries(o: RestoreOptions, select: Selector, reader: EntriesReader, root: string, bucket: Bucket | undefined): Promise<{ attention: boolean }> {
  const real = destination(o.dest);
  const r = new Restorer({ dest: real, overwrite: o.overwrite, dryRun: o.dryRun, ...destCaps(real) });
  const report = new Report({ src: root, dst: real, dry_run: o.dryRun }, o.warn, o.tool);
  const links = new Map<string, Buffer>();
  for (;;) {
    const e = reader.take();
    if (e === MORE) {
      await reader.more();
      continue;
    }
    if (e === undefined) break;
    if (!select(e.path, e.type === 'dir')) continue;
    const item = itemOf(e);
    let out: Outcome;
    if (e.error !== undefined && e.type !== 'dir') out = { status: 'failed', error: `unreadable in the mirror: ${e.error}` };
    else if (e.type === 'file') {
      const key = (e.nlink ?? 1) > 1 && e.ino !== undefined ? `${e.dev ?? ''}:${e.ino}` : undefined;
      const first = key !== undefined ? links.get(key) : undefined;
      if (first !== undefined) out = r.hardlink({ ...item, type: 'hardlink', link: first });
      else if (bucket !== undefined) {
        const key = keyOf(bucket.loc, e.path);
        try {
          out = await r.file(item, async (write) => {
            await bucket.download(key, write);
          });
        } catch (err) {
          out = { status: 'failed', error: (err as Error).message };
        }
      } else {
        const abs = Buffer.concat([Buffer.from(`${root}/`), item.name]);
        let fd: number | undefined;
        try {
          fd = fs.openSync(abs, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
          const f = fd;
          out = await r.file(item, async (write) => {
            for (let pos = 0, n; (n = fs.readSync(f, READ_BUF, 0, READ_BUF.length, pos)) > 0; pos += n) write(READ_BUF.subarray(0, n));
          });
        } catch (err) {
          out = { status: 'failed', error: (err as Error).message };
        } finally {
          if (fd !== undefined) fs.closeSync(fd);
        }
        if (key !== undefined && (out.status === 'done' || out.status === 'same')) links.set(key, item.name);
      }
    } else if (e.type === 'dir') out = r.dir(item);
    else if (e.type === 'symlink') out = r.symlink(item);
    else if (e.type === 'socket') out = { status: 'skipped', error: 'a socket (made by the program that listens on it)' };
    else if (e.type !== 'fifo' && !IS_ROOT) out = { status: 'skipped', error: 'device nodes are made by root only' };
    else out = r.special(item);
    await report.add(root, { name: item.name, type: e.type, ...out });
  }
  r.finish();
  await report.end();
  return { attention: report.problems > 0 };
}
