import { IS_ROOT } from '../tree/local/write';
import { openTar } from './byte-source';
import { confineName } from './confine';
import { descriptorFacts } from './descriptor-hashes';
import { algOfHash, requireAlg } from '../hash/digest';
import type { Report, Reported } from './report';
import type { Item, Outcome, Restorer } from './restorer';
import type { Selector } from './select';
import { TarError, TarReader, type Member } from './tar-read';

export interface TarRestoreOptions {
  select: Selector;
  specials: boolean;
}

function itemOf(m: Member): Item {
  const item: Item = {
    name: m.name,
    type: m.type as Item['type'],
    size: m.size,
    mode: m.mode,
    uid: m.uid,
    gid: m.gid,
    mtimeSec: m.mtimeSec,
    mtimeNsec: m.mtimeNsec,
    devmajor: m.devmajor,
    devminor: m.devminor,
  };
  if (m.type === 'symlink' || m.type === 'hardlink') item.link = m.linkname;
  return item;
}

/**
 * Restores tar streams, one after the other, into the restorer's
 * destination: whatever wrote them (cairn-pack, GNU tar, bsdtar). A
 * volume of cairn-pack (it starts with `.cairn/`) is trusted with fifos and
 * devices; from other tars they need --specials. `.cairn/` itself, the
 * volume's catalog, is not restored.
 */
export async function restoreTars(files: readonly string[], r: Restorer, report: Report, o: TarRestoreOptions): Promise<void> {
  const results = new InOrder(r, report);
  try {
    await restoreAll(files, r, results, o);
    await results.flush();
  } catch (err) {
    // What was decided before the error is reported, up to a file that failed for good.
    await results.flush().catch(() => {});
    throw err;
  } finally {
    // Whatever happened, nothing queued is left unmade or half made.
    r.flushQueue();
  }
  r.finish();
}

/** Outcomes reported in archive order, though small files are made later, a batch at a time (Restorer.fileBytes). */
class InOrder {
  private readonly pending: { source: string; rep: Omit<Reported, 'status'>; out: Outcome | Promise<Outcome>; done?: Outcome; key?: string }[] = [];
  /** Names (latin1) of files queued and not yet reported. */
  private readonly queued = new Set<string>();

  constructor(
    private readonly r: Restorer,
    private readonly report: Report,
  ) {}

  /** A queued file failed for the whole run (no space): the run stops at it as soon as that is known. */
  private stopped = false;

  /** Takes one object's outcome; a promise only when something must be waited for first (a flush, a slow output). */
  add(source: string, rep: Omit<Reported, 'status'>, out: Outcome | Promise<Outcome>, key?: string): Promise<void> | undefined {
    // Kept while waiting: a copy of the name, not a view of the reader's 1 MiB chunk.
    const entry: (typeof this.pending)[number] = { source, rep: this.pending.length > 0 || out instanceof Promise ? { ...rep, name: Buffer.from(rep.name) } : rep, out, key };
    if (out instanceof Promise) {
      out.then(
        (d) => (entry.done = d),
        () => (this.stopped = true),
      );
      if (key !== undefined) this.queued.add(key);
    } else entry.done = out;
    this.pending.push(entry);
    // Those done, from the oldest on; all of them when too many wait, or when one failed for good (it throws, in order).
    if (this.pending.length >= 1024 || this.stopped) return this.flush();
    return this.reportDone();
  }

  /** Reports the done outcomes from the oldest on, without a promise per object (a 100k-file restore: 0.1 s of them). */
  private reportDone(): Promise<void> | undefined {
    while (this.pending[0]?.done !== undefined) {
      const wait = this.reportFirst(this.pending[0].done);
      if (wait !== undefined) return wait.then(() => this.reportDone());
    }
    return undefined;
  }

  /** Reports the oldest entry, whose outcome is `out`; a promise when the output asks to wait. */
  private reportFirst(out: Outcome): Promise<void> | undefined {
    const e = this.pending.shift()!;
    if (e.key !== undefined) this.queued.delete(e.key);
    return this.report.add(e.source, { ...e.rep, ...out });
  }

  /** Whether a queued file has failed for the whole run: nothing more should be made. */
  get failed(): boolean {
    return this.stopped;
  }

  /** A member that must see the queued files made first: a hard link (to one of them?), or one whose name or a parent's is queued. */
  needsFlush(rel: Buffer, hardlink: boolean): boolean {
    if (this.queued.size === 0) return false;
    if (hardlink) return true;
    const key = rel.toString('latin1');
    if (this.queued.has(key)) return true;
    // A directory known to this run has no queued file above it: queueing a file there would have made it unknown (notDir).
    if (this.r.confine.knownParent(rel)) return false;
    for (let i = key.lastIndexOf('/'); i > 0; i = key.lastIndexOf('/', i - 1)) if (this.queued.has(key.slice(0, i))) return true;
    return false;
  }

  async flush(): Promise<void> {
    this.r.flushQueue();
    while (this.pending.length > 0) await this.reportOldest();
  }

  private async reportOldest(): Promise<void> {
    const e = this.pending[0]!;
    // A fatal error (no space) throws here, in archive order: nothing after it is reported.
    await this.reportFirst(e.done ?? (await e.out));
  }
}

async function restoreAll(files: readonly string[], r: Restorer, results: InOrder, o: TarRestoreOptions): Promise<void> {
  for (const file of files) {
    const source = file === '-' ? 'stdin' : file;
    const reader = new TarReader(await openTar(file));
    let first = true;
    let cairn = false;
    let hashes: Map<string, string> | undefined;
    let specials: Map<string, string> | undefined;
    let current: Buffer | undefined;
    // A broken archive (bad size, cut short, a gzip bomb) stops there: what came before stays restored.
    const broken = async (err: TarError): Promise<void> => {
      const at = err.member ?? current;
      const n = at !== undefined ? confineName(at) : undefined;
      const name = n !== undefined && 'rel' in n ? n.rel : (at ?? Buffer.from(`(offset ${reader.position})`));
      await results.add(source, { name, type: 'file' }, { status: 'failed', error: err.message });
    };
    for (;;) {
      let m: Member | undefined;
      try {
        m = await reader.next();
      } catch (err) {
        if (!(err instanceof TarError)) throw err;
        current = undefined;
        await broken(err);
        break;
      }
      if (m === undefined) break;
      current = m.name;
      if (first) cairn = m.name.toString('latin1').replace(/^\.\//, '').startsWith('.cairn/') || m.name.toString('latin1') === '.cairn';
      first = false;
      const n = confineName(m.name);
      // "." or "./": the destination itself, whose own attributes are not the archive's to set.
      if (m.type === 'dir' && /^(?:\.\/+)*\.?\/*$/.test(m.name.toString('latin1')) && m.name[0] === 0x2e) {
        await reader.skip();
        continue;
      }
      if ('rel' in n && cairn && (n.rel.toString('latin1') === '.cairn' || n.rel.toString('latin1').startsWith('.cairn/'))) {
        // The volume's own descriptor (the first one): the hashes its files must have.
        if (hashes === undefined && /^\.cairn\/vol-\d{4,}\.ndjson(\.gz)?$/.test(n.rel.toString('latin1'))) {
          // Gathered chunk by chunk, not allocated at its stated size: a hostile archive may state any.
          const chunks: Buffer[] = [];
          await reader.content((c) => chunks.push(Buffer.from(c)));
          ({ hashes, specials } = descriptorFacts(Buffer.concat(chunks)));
          // Before the first object: its files are checked against these hashes, or not restored at all.
          const any = hashes.values().next();
          if (!any.done) requireAlg(algOfHash(any.value), `${source}: ${n.rel.toString('latin1')}`);
        }
        continue;
      }
      if ('rel' in n && !o.select(n.rel.toString('utf8'), m.type === 'dir')) continue;
      if (results.failed || ('rel' in n && results.needsFlush(n.rel, m.type === 'hardlink'))) await results.flush();
      let out: Outcome | Promise<Outcome> | undefined;
      if (m.bad !== undefined) out = { status: 'failed', error: `refused: ${m.bad}` };
      else if ('refuse' in n) out = { status: 'failed', error: `refused: ${n.refuse}` };
      else {
        const item = itemOf(m);
        const want = hashes?.get(n.rel.toString('latin1'));
        if (want !== undefined && m.type === 'file') item.hash = want;
        switch (m.type) {
          case 'file':
            try {
              if (m.sparse !== undefined) {
                await reader.sparseMap(m);
                if (m.bad !== undefined) {
                  out = { status: 'failed', error: `refused: ${m.bad}` };
                  break;
                }
                item.sparse = m.sparse.map;
              }
              if (r.queues(item)) {
                // Whole in memory (at most 1 MiB), then made by the addon's thread with others.
                let data = reader.contentView();
                if (data === undefined) {
                  const whole = Buffer.allocUnsafe(m.size);
                  let at = 0;
                  await reader.content((c) => {
                    at += c.copy(whole, at);
                  });
                  data = whole.subarray(0, at);
                }
                out = r.fileBytes(item, data);
              } else out = await r.file(item, (write) => reader.content(write));
            } catch (err) {
              if (!(err instanceof TarError)) throw err;
              await broken(err);
              break;
            }
            break;
          case 'dir':
            out = r.dir(item);
            break;
          case 'symlink':
            out = r.symlink(item);
            break;
          case 'hardlink':
            out = r.hardlink(item);
            break;
          default:
            // Trusted without --specials only when the volume's own descriptor lists this very node.
            if (!o.specials && !(cairn && specials?.get(n.rel.toString('latin1')) === m.type)) {
              out = { status: 'skipped', error: `a ${m.type === 'fifo' ? 'fifo' : 'device node'} from a tar not made by cairn (--specials restores it)` };
            }
            else if (m.type !== 'fifo' && !IS_ROOT) out = { status: 'skipped', error: 'device nodes are made by root only' };
            else out = r.special(item);
        }
      }
      if (out === undefined) break; // the archive broke inside this member: reported
      const wait = results.add(source, { name: 'rel' in n ? n.rel : m.name, type: m.type }, out, 'rel' in n && out instanceof Promise ? n.rel.toString('latin1') : undefined);
      if (wait !== undefined) await wait;
    }
  }
}
