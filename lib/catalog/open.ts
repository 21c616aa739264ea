import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { InputError, UsageError, describeSystemError } from '../cli/errors';
import { PassThrough } from 'node:stream';
import { LineReader } from '../records/line-reader';
import { StreamReader, type StreamSpec } from '../records/stream-reader';
import type { VolumeHeader, VolumeRecord } from '../records/types';
import type { CatalogFile } from './names';
import { VOLUME } from './volume-spec';

export type VolumeReader = StreamReader<VolumeHeader, VolumeRecord>;

/**
 * Reads a descriptor, plain or gzip-compressed: the first two bytes decide,
 * not the name, so a descriptor renamed or copied off a medium reads either way.
 * Small read buffers: a catalog of hundreds of volumes is merged at once.
 */
export function openDescriptor(file: string, name = file, spec: StreamSpec<VolumeHeader, VolumeRecord> = VOLUME): Promise<VolumeReader> {
  let fd: number;
  const magic = Buffer.alloc(2);
  try {
    fd = fs.openSync(file, 'r');
    fs.readSync(fd, magic, 0, 2, 0);
  } catch (err) {
    throw new UsageError(name, describeSystemError(err));
  }
  const raw = fs.createReadStream('', { fd, highWaterMark: 1 << 16 });
  const gzip = magic[0] === 0x1f && magic[1] === 0x8b;
  let source: NodeJS.ReadableStream = raw;
  if (gzip) {
    // A broken gzip stream is bad input, named as such (exit 2), not an I/O failure.
    const out = new PassThrough({ highWaterMark: 1 << 16 });
    const gunzip = zlib.createGunzip({ chunkSize: 1 << 16 });
    gunzip.on('error', (err: NodeJS.ErrnoException) => out.destroy(new InputError(name, 0, undefined, `not a complete gzip stream (${err.code ?? err.message})`)));
    raw.on('error', (err) => out.destroy(err));
    raw.pipe(gunzip).pipe(out);
    source = out;
  }
  return StreamReader.fromLines(new LineReader(source, name), spec);
}

/** The header of a descriptor, the rest unread. */
export async function readVolumeHeader(f: CatalogFile): Promise<VolumeHeader> {
  const r = await openDescriptor(f.file);
  const h = r.header;
  if (h.volume !== f.volume) throw new UsageError(f.file, `holds volume ${h.volume}, not ${f.volume} as its name says`);
  r.close();
  return h;
}
