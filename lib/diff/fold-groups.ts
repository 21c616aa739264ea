import { ENTRIES } from '../records/entries';
import { LineReader } from '../records/line-reader';
import { compareKeyed, isInside } from '../records/order';
import { privateTemp, type PrivateTemp, syncWriter } from '../records/spool';
import { StreamReader, openInput } from '../records/stream-reader';
import type { Entry, Side } from '../records/types';
import { NdjsonWriter } from '../records/writer';
import { foldName, type Folding } from './fold-name';
import { Side as SideReader, type EntriesReader } from './diff';

/** One spelling of a name, with what each side (and the base) holds under it. */
export interface Spelling {
  path: string;
  path_b64?: string;
  a?: Entry;
  b?: Entry;
  base?: Entry;
}

/** Siblings whose names fold to the same name. */
export type FoldGroup = Spelling[];

function nameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

interface Frame {
  path: string;
  /** First spellings by folded name, and the groups found. */
  names: Map<string, Spelling | FoldGroup>;
}

/**
 * The first pass of a three-way diff where a side folds names (FAT is
 * case-insensitive, macOS normalizes): finds the siblings whose names fold
 * together across base, A and B, and copies the three streams to private
 * spools for the second pass. Memory: the names of the current path's
 * ancestors' children, and the groups (rare).
 */
export async function findFoldGroups(
  readers: Record<'base' | Side, EntriesReader>,
  keep: Record<'base' | Side, ((e: Entry) => boolean) | undefined>,
  f: Folding,
): Promise<{ groups: Map<string, FoldGroup>; reopen: () => Promise<Record<'base' | Side, EntriesReader>>; done: () => void }> {
  const groups = new Map<string, FoldGroup>();
  const sides = ['base', 'a', 'b'] as const;
  const spools: Partial<Record<'base' | Side, PrivateTemp>> = {};
  try {
    const writers = {} as Record<'base' | Side, NdjsonWriter>;
    const heads = {} as Record<'base' | Side, Entry | undefined>;
    const sr = {} as Record<'base' | Side, SideReader>;
    for (const s of sides) {
      const t = privateTemp(`fold-${s}`);
      spools[s] = t;
      writers[s] = new NdjsonWriter(syncWriter(t.fd));
      writers[s].write(readers[s].header);
      sr[s] = new SideReader(readers[s], keep[s]);
      heads[s] = await sr[s].next();
    }
    const stack: Frame[] = [{ path: '', names: new Map() }];
    const close = (fr: Frame) => {
      for (const v of fr.names.values()) if (Array.isArray(v)) for (const sp of v) groups.set(sp.path, v);
    };
    for (;;) {
      let key: Entry | undefined;
      for (const s of sides) if (heads[s] !== undefined && (key === undefined || compareKeyed(heads[s]!, key) < 0)) key = heads[s];
      if (key === undefined) break;
      const sp: Spelling = key.path_b64 !== undefined ? { path: key.path, path_b64: key.path_b64 } : { path: key.path };
      for (const s of sides) {
        const e = heads[s];
        if (e !== undefined && compareKeyed(e, key) === 0) {
          sp[s] = e;
          writers[s].write(e);
          heads[s] = await sr[s].next();
        }
      }
      while (stack.length > 1 && !isInside(key.path, stack[stack.length - 1]!.path)) close(stack.pop()!);
      const fr = stack[stack.length - 1]!;
      const folded = foldName(nameOf(key.path), f);
      const seen = fr.names.get(folded);
      if (seen === undefined) fr.names.set(folded, sp);
      else if (Array.isArray(seen)) seen.push(sp);
      else fr.names.set(folded, [seen, sp]);
      if ((sp.a ?? sp.b ?? sp.base)!.type === 'dir' || sp.a?.type === 'dir' || sp.b?.type === 'dir') stack.push({ path: key.path, names: new Map() });
      if (writers.a.blocked || writers.b.blocked) await Promise.all([writers.a.drain(), writers.b.drain()]);
    }
    while (stack.length > 0) close(stack.pop()!);
    for (const s of sides) await writers[s].end();
  } catch (err) {
    for (const s of sides) spools[s]?.done();
    throw err;
  }
  return {
    groups,
    reopen: async () => {
      const out = {} as Record<'base' | Side, EntriesReader>;
      for (const s of sides) out[s] = await StreamReader.fromLines(new LineReader(openInput(spools[s]!.file), readers[s].file), ENTRIES, true);
      return out;
    },
    done: () => {
      for (const s of sides) spools[s]?.done();
    },
  };
}
