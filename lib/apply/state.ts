import * as fs from 'node:fs';
import { hashFile } from '../hash/file-hash';
import { STREAM_VERSION, type Action, type EntriesHeader, type EntryBody, type HashAlg, type PlanHeader } from '../records/types';
import { unionCaps } from '../state/caps';
import { takeLock } from '../state/lock';
import { StateStore } from '../state/store';
import { fsPathOf } from '../tree/local/fs-path';
import { lstatOrNone } from '../tree/local/stat';

export interface OpenState {
  store: StateStore;
  /** A done action's `state`, made exact from what is on disk now. */
  agree(a: Action): void;
  /** Writes the state if anything changed (or it does not exist yet), and lets go of the lock. */
  finish(): void;
}

/** cairn-apply --state: locks the pair and records what each finished action agreed on. */
export function openState(file: string, h: PlanHeader, aRoot: string, bRoot: string, o: { tool: string; warn: (what: string, why: string) => void }): OpenState {
  const release = takeLock(file, o.warn);
  const alg: HashAlg = h.hash ?? 'sha256';
  const header: EntriesHeader & { pair: { a: string; b: string } } = {
    cairn: 'entries',
    version: STREAM_VERSION,
    root: aRoot,
    hash: alg,
    caps: unionCaps(h.src_caps, h.dst_caps),
    filters: [],
    options: { follow: false, one_file_system: false },
    tool: o.tool,
    created: '',
    pair: { a: aRoot, b: bRoot },
  };
  let store: StateStore;
  try {
    store = new StateStore(file, header, [aRoot, bRoot]);
  } catch (err) {
    release();
    throw err;
  }
  const isNew = !fs.existsSync(file);
  let finished = false;
  // A closed output pipe or a second Ctrl-C ends the process at once: what was done is still recorded.
  const atExit = () => {
    try {
      result.finish();
    } catch (err) {
      process.stderr.write(`cairn-apply: ${file}: the state could not be written: ${(err as Error).message}\n`);
    }
  };
  process.on('exit', atExit);
  const result: OpenState = {
    store,
    agree(a) {
      // A rename: the old name leaves the state.
      if (a.op === 'move' && a.state !== undefined) store.set({ path: a.from!, ...(a.from_b64 !== undefined ? { path_b64: a.from_b64 } : {}) }, null);
      if (a.state === null || a.state === undefined || a.to === undefined) {
        store.set(a, a.state ? ofAlg(a.state, alg) : null);
        return;
      }
      const e = { ...a.state };
      const [root, toCaps, fromCaps] = a.to === 'a' ? [aRoot, h.src_caps, h.dst_caps] : [bRoot, h.dst_caps, h.src_caps];
      const abs = fsPathOf(root, a.path, a.path_b64);
      // What the source side could not say (modes, owners) is what the written side has now.
      if ((toCaps.perms && !fromCaps.perms) || (toCaps.owners && !fromCaps.owners)) {
        const st = lstatOrNone(abs);
        if (st !== undefined) {
          if (toCaps.perms && !fromCaps.perms) e.mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
          if (toCaps.owners && !fromCaps.owners) {
            e.uid = st.uid;
            e.gid = st.gid;
          }
        }
      }
      // The state keeps content hashes: what a later run needs to tell a touch from an edit.
      if (e.hash !== undefined && !e.hash.startsWith(`${alg}:`)) delete e.hash;
      if (e.type === 'file' && e.hash === undefined && (a.op === 'copy' || a.op === 'update')) {
        try {
          e.hash = hashFile(abs, alg);
        } catch {
          // Without a hash the next run decides by metadata alone.
        }
      }
      store.set(a, e);
    },
    finish() {
      if (finished) return;
      finished = true;
      process.off('exit', atExit);
      try {
        if (store.changed || isNew) store.writeSync();
      } finally {
        store.close();
        release();
      }
    },
  };
  return result;
}

/** An entry with its hash only if it is of the state's algorithm (a side scanned with --hash md5 is not). */
function ofAlg(e: EntryBody, alg: HashAlg): EntryBody {
  if (e.hash === undefined || e.hash.startsWith(`${alg}:`)) return e;
  const { hash: _, ...rest } = e;
  return rest;
}
