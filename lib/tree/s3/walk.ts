import type { Filter } from '../../filter/rules';
import { newDigest } from '../../hash/digest';
import { compareNames } from '../../records/order';
import type { Entry, EntryBody, HashAlg } from '../../records/types';
import type { Bucket } from './bucket';
import { markerOf, keyOf } from './location';
import { entryOfObject, typeOfObject, type ObjectInfo } from './meta';

export interface S3WalkOptions {
  filter: Filter;
  hash: HashAlg | null;
  interrupted: () => boolean;
  warn: (path: string, why: string) => void;
}

/** One directory's listing: its own marker, its files and its subdirectories, sorted by name. */
interface DirListing {
  marker?: ObjectInfo;
  children: Array<{ name: string; info?: ObjectInfo }>;
}

/** Entries on their way out; HEADs run ahead of the writer by this many. */
const WINDOW = 1024;
/** Listings of the directories coming next, fetched ahead of the walk. */
const LIST_AHEAD = 8;
/** A directory without a marker object has no time of its own: the epoch, marked unknown (mtime_precision_ns 0). */
const NO_TIME = '1970-01-01T00:00:00.000000000Z';

/** A name a key component can have that no path can: skipped with a warning. */
function nameProblem(name: string): string | undefined {
  if (name === '') return 'an empty name (a key with "//")';
  if (name === '.' || name === '..') return `a "${name}" component`;
  return undefined;
}

/**
 * Walks a prefix of a bucket in canonical order, one directory listing at
 * a time (delimiter `/`: the flat key order of S3 puts `a.txt` before
 * `a/b`, canonical order after). Each object's metadata needs a HEAD;
 * those run `-j` at once, ahead of the writer, and come out in order.
 */
export async function walkS3(
  bucket: Bucket,
  o: S3WalkOptions,
  begin: (root: EntryBody | undefined) => void,
  put: (e: Entry) => Promise<void>,
): Promise<{ entries: number; problems: number }> {
  const loc = bucket.loc;
  let entries = 0;
  let problems = 0;
  const queue: Array<Promise<Entry | undefined>> = [];
  const flushOne = async () => {
    const e = await queue.shift()!;
    if (e === undefined) return;
    entries++;
    if (e.error !== undefined) {
      problems++;
      o.warn(e.path, e.error);
    }
    await put(e);
  };
  const push = async (p: Promise<Entry | undefined>) => {
    p.catch(() => {}); // awaited in turn by flushOne
    queue.push(p);
    if (queue.length >= WINDOW) await flushOne();
  };

  const list = async (rel: string): Promise<DirListing> => {
    const prefix = markerOf(loc, rel);
    const out: DirListing = { children: [] };
    const seen = new Map<string, number>();
    let token: string | undefined;
    do {
      const page = await bucket.list(prefix, '/', token);
      for (const obj of page.objects) {
        if (obj.key === prefix) {
          out.marker = obj;
          continue;
        }
        const name = obj.key.slice(prefix.length);
        seen.set(name, out.children.length);
        out.children.push({ name, info: obj });
      }
      for (const p of page.prefixes) {
        const name = p.slice(prefix.length, -1);
        const at = seen.get(name);
        // An object and a "directory" of one name: the tree is the directory.
        if (at !== undefined) {
          o.warn(rel === '.' ? name : `${rel}/${name}`, 'an object and a directory of the same name: the object is left out');
          out.children.splice(at, 1);
          seen.delete(name);
          for (const [k, v] of seen) if (v > at) seen.set(k, v - 1);
        }
        out.children.push({ name });
      }
      token = page.next;
    } while (token !== undefined);
    out.children.sort((x, y) => compareNames(x.name, y.name));
    // A listing carries no metadata: the marker's time and mode need a HEAD.
    if (out.marker !== undefined) out.marker = (await bucket.head(prefix)) ?? out.marker;
    return out;
  };

  const objectEntry = async (path: string, info: ObjectInfo): Promise<Entry> => {
    const key = keyOf(loc, path);
    try {
      const head = await bucket.head(key);
      if (head === undefined) return { path, type: 'file', error: 'ENOENT: deleted while being listed' } as Entry;
      const body = entryOfObject(typeOfObject(head.meta), head, o.hash);
      if (o.hash !== null && body.type === 'file' && !(body.hash ?? '').startsWith(`${o.hash}:`)) {
        // No hash of this algorithm in the metadata: read the object.
        const h = newDigest(o.hash);
        await bucket.download(key, (b) => void h.update(b), { etag: head.etag });
        body.hash = `${o.hash}:${h.digest('hex')}`;
      }
      return { path, ...body };
    } catch (err) {
      return { path, type: 'file', size: info.size, error: `EIO: ${(err as Error).message}` } as Entry;
    }
  };

  const dirEntry = (path: string, l: DirListing | Error): Entry => {
    if (l instanceof Error) return { path, type: 'dir', mtime: NO_TIME, error: `EIO: ${l.message}` } as Entry;
    return { path, ...(l.marker !== undefined ? markerEntry(l.marker) : { type: 'dir', mtime: NO_TIME, mtime_precision_ns: 0 }) } as Entry;
  };
  const markerEntry = (m: ObjectInfo): EntryBody => {
    const { size: _, hash: __, ...body } = entryOfObject('dir', m, null);
    return body;
  };

  const ahead = new Map<string, Promise<DirListing | Error>>();
  const fetch = (rel: string) => {
    let p = ahead.get(rel);
    if (p === undefined) {
      p = list(rel).catch((err: Error) => err);
      ahead.set(rel, p);
    }
    return p;
  };

  const walk = async (rel: string, l: DirListing): Promise<void> => {
    const dirs = l.children.filter((c) => c.info === undefined).map((c) => (rel === '.' ? c.name : `${rel}/${c.name}`));
    let nextDir = 0;
    for (const c of l.children) {
      if (o.interrupted()) return;
      const path = rel === '.' ? c.name : `${rel}/${c.name}`;
      const bad = nameProblem(c.name);
      if (bad !== undefined) {
        o.warn(path, `${bad}: not a path, left out`);
        if (c.info === undefined) nextDir++;
        continue;
      }
      if (c.info !== undefined) {
        if (!o.filter.excludes(path, false)) await push(objectEntry(path, c.info));
        continue;
      }
      nextDir++;
      if (o.filter.excludes(path, true)) continue;
      for (let i = nextDir; i < Math.min(dirs.length, nextDir + LIST_AHEAD); i++) if (!o.filter.excludes(dirs[i]!, true)) fetch(dirs[i]!);
      const sub = await fetch(path);
      ahead.delete(path);
      await push(Promise.resolve(dirEntry(path, sub)));
      if (!(sub instanceof Error)) await walk(path, sub);
    }
  };

  // The root must be listable: a missing bucket or no access ends the scan before anything is written.
  const top = await list('.');
  begin(top.marker !== undefined ? markerEntry(top.marker) : undefined);
  await walk('.', top);
  while (queue.length > 0) await flushOne();
  return { entries, problems };
}
