import * as fs from 'node:fs';
import * as path from 'node:path';
import { requireAlg } from '../hash/digest';
import { CairnError, FatalIoError, UsageError, describeSystemError } from '../cli/errors';
import { eachAction, expandPattern, hasPattern, volumesToWrite, type ArchivePlanInput } from '../archive/plan-input';
import { VolumeJob, keyOf, prepareVolumes, removeDeadTemps } from '../archive/volume-job';
import { ENTRIES } from '../records/entries';
import { LineReader } from '../records/line-reader';
import { teeInput } from '../records/spool';
import { MORE, StreamReader, inputName, openInput } from '../records/stream-reader';
import { timeParts } from '../records/time';
import { fstatOf } from '../tree/local/stat';
import type { Action, Entry, HashAlg } from '../records/types';
import { archivable, memberOf, partName, rawBytes } from './member';
import { END_OF_ARCHIVE, contentPadding, encodeHeader } from './tar-header';
import { TarOut } from './tar-out';
import { closeHasher, writeFile, writeMember } from './write-member';
import { SmallFiles } from './small-files';

export interface PackOptions {
  input: string;
  /** A file name, or a pattern with %d for every volume of a plan; undefined: stdout. */
  output?: string;
  gzip: boolean;
  tool: string;
  warn: (what: string, why: string) => void;
  interrupted: () => boolean;
}

const { O_RDONLY, O_NOFOLLOW } = fs.constants;

/** Reads the first line of an input to learn its stream kind, keeping every byte for the real reader. */
async function sniff(source: AsyncIterable<Uint8Array>): Promise<{ kind: unknown; source: AsyncIterable<Uint8Array> }> {
  const it = source[Symbol.asyncIterator]();
  const kept: Uint8Array[] = [];
  let kind: unknown;
  for (;;) {
    const r = await it.next();
    if (r.done) break;
    kept.push(r.value);
    const all = Buffer.concat(kept);
    const nl = all.indexOf(0x0a);
    if (nl >= 0) {
      try {
        kind = (JSON.parse(all.subarray(0, nl).toString('utf8')) as { cairn?: unknown }).cairn;
      } catch {
        // The real reader says what is wrong with it.
      }
      break;
    }
  }
  const replay = (async function* () {
    yield* kept;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  })();
  return { kind, source: replay };
}

export async function runPack(o: PackOptions): Promise<{ attention: boolean }> {
  // An entries stream is read once; only a plan is copied to be read again.
  const { kind, source } = await sniff(openInput(o.input));
  if (kind === 'entries') {
    const reader = await StreamReader.fromLines(new LineReader(source, inputName(o.input)), ENTRIES);
    requireAlg(reader.header.hash, inputName(o.input));
    if (o.output !== undefined && hasPattern(o.output)) throw new UsageError(`-o ${o.output}`, 'a %d pattern names the volumes of a plan; an entries stream makes one tar');
    return await withOutput(o.output, o.gzip, (out) => packEntries(reader, out, o));
  }
  const tee = teeInput(o.input, 'pack', source);
  try {
    const { plan, jobs } = await prepareVolumes(tee.source, tee.input, inputName(o.input), o.tool, o.warn);
    try {
      const pattern = o.output !== undefined && hasPattern(o.output);
      volumesToWrite(plan, pattern, '-o');
      if (jobs.length === 0) o.warn('', 'the plan holds no volume: nothing to pack');
      let attention = false;
      for (const job of jobs) {
        if (o.interrupted()) break;
        const r = await packVolume(plan, job, o.output !== undefined ? expandPattern(o.output, job.volume) : undefined, o);
        attention ||= r.attention;
      }
      return { attention };
    } finally {
      for (const j of jobs) j.abort();
    }
  } finally {
    tee.input.done();
  }
}

/**
 * Runs `fn` on the output: stdout, or a file written under a temporary
 * name beside it, synced and renamed into place once complete (an
 * interrupted run leaves no half tar under the final name).
 */
async function withOutput<T>(output: string | undefined, gzip: boolean, fn: (out: TarOut) => Promise<T>, before?: () => Promise<void>): Promise<T> {
  if (output === undefined) {
    const out = new TarOut(1, gzip);
    try {
      const r = await fn(out);
      await out.end(false);
      if (before) await before();
      return r;
    } catch (err) {
      throw fatal(err, 'stdout');
    } finally {
      await closeHasher(out);
    }
  }
  const final = path.resolve(output);
  // A volume is never written over another file: that is likely an earlier volume, whose files the catalog counts on.
  if (fs.existsSync(final)) throw new UsageError(`-o ${output}`, 'exists: a volume is written to a new file (remove it, or name another)');
  // What a killed run left of an output of this name.
  removeDeadTemps(path.dirname(final), (rest) => rest === path.basename(final));
  const temp = path.join(path.dirname(final), `.cairn-tmp.${process.pid}.${path.basename(final)}`);
  let fd: number;
  try {
    fd = fs.openSync(temp, 'wx', 0o644);
  } catch (err) {
    throw new UsageError(`-o ${output}`, describeSystemError(err));
  }
  let out: TarOut | undefined;
  try {
    out = new TarOut(fd, gzip);
    const r = await fn(out);
    await out.end(true);
    await closeHasher(out);
    fs.closeSync(fd);
    fd = -1;
    // Not over a file that appeared meanwhile.
    fs.linkSync(temp, final);
    fs.unlinkSync(temp);
    const dir = fs.openSync(path.dirname(final), 'r');
    fs.fsyncSync(dir);
    fs.closeSync(dir);
    if (before) await before();
    return r;
  } catch (err) {
    if (out !== undefined) await closeHasher(out);
    if (fd >= 0) fs.closeSync(fd);
    fs.rmSync(temp, { force: true });
    throw fatal(err, final);
  }
}

/** A write that failed (ENOSPC, EIO, a closed pipe): a fatal I/O error naming the output, unless it is ours already. */
function fatal(err: unknown, where: string): unknown {
  if (err instanceof CairnError || (err as NodeJS.ErrnoException).code === 'EPIPE') return err;
  if ((err as NodeJS.ErrnoException).code !== undefined) return new FatalIoError(where, `${describeSystemError(err)} (the volume is not in the catalog)`);
  return err;
}

function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/** One volume of a plan: the `.cairn/` catalog first, then every object in plan order. */
async function packVolume(plan: ArchivePlanInput, job: VolumeJob, output: string | undefined, o: PackOptions): Promise<{ attention: boolean }> {
  const volume = job.volume;
  try {
    const previous = job.checkCatalog();
    const failed = new Set<string>();
    const alg = (plan.header.hash ?? 'sha256') as HashAlg;
    await withOutput(
      output,
      o.gzip,
      async (out) => {
        const mtimeNs = nowNs();
        const meta = { mtimeNs, mode: 0o644, uid: 0, gid: 0 };
        { const p = writeMember(out, { ...meta, path: Buffer.from('.cairn'), type: 'dir', size: 0, mode: 0o755 }); if (p) await p; }
        const files = [{ name: job.name, file: job.descriptorFile }, ...previous.map((p) => ({ name: p.name, file: p.file }))];
        for (const f of files) {
          const fd = fs.openSync(f.file, O_RDONLY);
          try {
            const size = fs.fstatSync(fd).size;
            await writeFile(out, { ...meta, path: Buffer.from(`.cairn/${f.name}`), type: 'file', size }, { fd, offset: 0, size, alg });
          } finally {
            fs.closeSync(fd);
          }
        }
        const root = Buffer.from(plan.header.src.endsWith('/') ? plan.header.src : `${plan.header.src}/`);
        const small = new SmallFiles(out, alg);
        const leftOut = job.left.size > 0;
        const fail = (a: Action, why: string): void => {
          failed.add(keyOf(a));
          failedPaths.add(a.path);
          o.warn(a.path, why);
        };
        // Synchronous per member; a promise only when a buffer goes out (eachAction awaits it).
        const failedPaths = new Set<string>();
        const one = (a: Action): Promise<void> | undefined => {
          if (a.op !== 'store' || (leftOut && job.left.has(keyOf(a)))) return undefined;
          const name = rawBytes(a.path, a.path_b64);
          const src = a.src!;
          // A link to a file that failed holds what that file holds: it fails with it (the next volume stores both).
          if (a.link !== undefined) {
            return small.drain().then(() => {
              if (failedPaths.has(a.link!)) fail(a, 'its hard link target failed: left out of the catalog (the next volume stores it again)');
              return writeMember(out, memberOf(name, src, 0, rawBytes(a.link!, undefined)));
            });
          }
          if (src.type !== 'file') return writeMember(out, memberOf(name, src, 0));
          const offset = a.part?.offset ?? 0;
          const size = a.part?.size ?? src.size ?? 0;
          const m = memberOf(a.part ? partName(name, offset) : name, src, size);
          const hash = a.part ? job.partHashes.get(keyOf(a)) : src.hash;
          const header = encodeHeader(m);
          const failure = (why: string | undefined): void => {
            if (why !== undefined) fail(a, `${why}: left out of the catalog (the next volume stores it again)`);
          };
          if (small.add({ member: m, root, name, position: offset, src, hash, done: failure }, header)) {
            if (o.interrupted()) throw new FatalIoError(output ?? 'stdout', 'interrupted: the volume is incomplete and not in the catalog');
            return undefined;
          }
          let fd: number;
          try {
            fd = fs.openSync(Buffer.concat([root, name]), O_RDONLY | O_NOFOLLOW);
          } catch (err) {
            // Checked a moment ago; gone now. The member must still be there: the descriptor on the medium lists it.
            failure(`${describeSystemError(err)}: stored as zeros`);
            return (async () => {
              await out.put(header);
              await out.zeros(size + contentPadding(size));
            })();
          }
          const done = (why: string | undefined): void => {
            fs.closeSync(fd);
            failure(why);
            if (o.interrupted()) throw new FatalIoError(output ?? 'stdout', 'interrupted: the volume is incomplete and not in the catalog');
          };
          let r: ReturnType<typeof writeFile>;
          try {
            r = writeFile(out, m, { fd, offset, size, alg, ...(hash !== undefined ? { hash } : {}) }, src, header);
          } catch (err) {
            fs.closeSync(fd);
            throw err;
          }
          if (r instanceof Promise) return r.then(done, (err) => (fs.closeSync(fd), Promise.reject(err)));
          done(r);
          return undefined;
        };
        await eachAction(plan, volume, one);
        await small.drain();
        await out.put(END_OF_ARCHIVE);
      },
      () => job.commit(failed),
    );
    return { attention: job.left.size > 0 || failed.size > 0 };
  } catch (err) {
    job.abort();
    throw err;
  } finally {
    job.done();
  }
}

/** An ad-hoc tar of an entries stream: every object, hard links as links, nothing of a catalog. */
async function packEntries(reader: StreamReader<import('../records/types').EntriesHeader, Entry>, out: TarOut, o: PackOptions): Promise<{ attention: boolean }> {
  const root = reader.header.root;
  const alg = reader.header.hash ?? 'sha256';
  const links = new Map<string, Buffer>();
  let attention = false;
  let sockets = 0;
  for (;;) {
    const e = reader.take();
    if (e === MORE) {
      await reader.more();
      continue;
    }
    if (e === undefined) break;
    if (!archivable(e.type)) {
      sockets++;
      continue;
    }
    if (e.error !== undefined && e.type !== 'dir') {
      attention = true;
      o.warn(e.path, `${e.error}: not in the tar`);
      continue;
    }
    const name = rawBytes(e.path, e.path_b64);
    if (e.type !== 'file') {
      { const p = writeMember(out, memberOf(name, e, 0)); if (p) await p; }
      continue;
    }
    if ((e.nlink ?? 1) > 1 && e.ino !== undefined) {
      const key = `${e.dev ?? ''}:${e.ino}`;
      const first = links.get(key);
      if (first !== undefined) {
        { const p = writeMember(out, memberOf(name, e, 0, first)); if (p) await p; }
        continue;
      }
      links.set(key, name);
    }
    let fd: number;
    try {
      fd = fs.openSync(Buffer.concat([Buffer.from(`${root}/`), name]), O_RDONLY | O_NOFOLLOW);
    } catch (err) {
      attention = true;
      o.warn(e.path, `${describeSystemError(err)}: not in the tar`);
      continue;
    }
    try {
      const st = fstatOf(fd);
      const [sec, nsec] = timeParts(e.mtime);
      if (st.size !== (e.size ?? 0) || st.mtimeSec !== sec || st.mtimeNsec !== nsec) {
        attention = true;
        o.warn(e.path, 'changed since the scan: not in the tar');
        continue;
      }
      const why = await writeFile(out, memberOf(name, e, e.size ?? 0), { fd, offset: 0, size: e.size ?? 0, alg, ...(e.hash !== undefined ? { hash: e.hash } : {}) }, e);
      if (why !== undefined) {
        attention = true;
        o.warn(e.path, `${why}: its bytes in the tar are not the scanned file`);
      }
    } finally {
      fs.closeSync(fd);
    }
    if (o.interrupted()) break;
  }
  await out.put(END_OF_ARCHIVE);
  if (sockets > 0) o.warn('', `${sockets} ${sockets === 1 ? 'socket' : 'sockets'} left out (no tar format stores them)`);
  return { attention };
}
