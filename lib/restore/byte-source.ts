import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { UsageError, describeSystemError } from '../cli/errors';
import { TarError, type ByteSource } from './tar-read';

/** A gzip stream may inflate this many times its compressed size, no more (a bomb is stopped). */
export const MAX_RATIO = 1000;
/** Below this much output the ratio is not judged: tiny archives of zeros compress well and are harmless. */
const RATIO_FLOOR = 1 << 20;

/** The chunks of a stream as a pull source. */
function pull(stream: NodeJS.ReadableStream): ByteSource {
  const it = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  return {
    async next() {
      const r = await it.next();
      return r.done ? undefined : (r.value as Buffer);
    },
  };
}

/**
 * A tar file or stdin (`-`) as bytes, gunzipped when it starts with gzip's
 * magic bytes. Inflating more than MAX_RATIO times the compressed bytes
 * read so far stops the stream with a TarError.
 */
export async function openTar(file: string): Promise<ByteSource> {
  let raw: NodeJS.ReadableStream;
  if (file === '-') raw = process.stdin;
  else {
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
      if (fs.fstatSync(fd).isDirectory()) throw Object.assign(new Error('EISDIR: is a directory'), { code: 'EISDIR' });
    } catch (err) {
      throw new UsageError(file, describeSystemError(err));
    }
    raw = fs.createReadStream('', { fd, highWaterMark: 1 << 20 });
  }
  const src = pull(raw);
  const first = await src.next();
  if (first === undefined) return { next: async () => undefined };
  if (!(first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b)) {
    let pending: Buffer | undefined = first;
    return {
      async next() {
        if (pending !== undefined) {
          const p = pending;
          pending = undefined;
          return p;
        }
        return src.next();
      },
    };
  }
  // Gzip: feed the compressed chunks in as the tar reader asks for output.
  let compressed = 0;
  let inflated = 0;
  const gunzip = zlib.createGunzip({ chunkSize: 1 << 16 });
  const feed = (async () => {
    try {
      for (let c: Buffer | undefined = first; c !== undefined; c = await src.next()) {
        compressed += c.length;
        if (!gunzip.write(c)) await new Promise((r) => gunzip.once('drain', r));
      }
      gunzip.end();
    } catch (err) {
      gunzip.destroy(err as Error);
    }
  })();
  void feed;
  const out = pull(gunzip);
  return {
    async next() {
      let c: Buffer | undefined;
      try {
        c = await out.next();
      } catch (err) {
        throw new TarError(`gzip: ${(err as Error).message}`);
      }
      if (c === undefined) return undefined;
      inflated += c.length;
      if (inflated > RATIO_FLOOR && inflated > MAX_RATIO * compressed) {
        gunzip.destroy();
        throw new TarError(`the gzip stream inflates more than ${MAX_RATIO} times its size (${inflated} bytes from ${compressed}): stopped`);
      }
      return c;
    },
  };
}
