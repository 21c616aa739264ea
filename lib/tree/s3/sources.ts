import * as fs from 'node:fs';
import type { EntryBody } from '../../records/types';
import type { FsPath } from '../local/list-dir';
import { StaleError, checkSource, openSource } from '../local/write';
import type { Bucket } from './bucket';
import { entryOfObject, typeOfObject, type ObjectInfo } from './meta';
import type { ByteSource } from './upload';

/**
 * A local file to upload, opened and checked against the plan's entry as a
 * local copy's source is (a regular file of that size and mtime), and
 * checked again when the reading is done: a file edited meanwhile, or
 * swapped for another under its name, makes the action stale.
 */
export function fileSource(abs: FsPath, e: EntryBody): ByteSource & { close(): void } {
  const src = openSource(abs, e);
  return {
    size: src.size,
    async read(offset, length) {
      const buf = Buffer.allocUnsafe(length);
      let got = 0;
      while (got < length) {
        const bytesRead = await new Promise<number>((resolve, reject) => fs.read(src.fd, buf, got, length - got, offset + got, (err, n) => (err ? reject(err) : resolve(n))));
        if (bytesRead === 0) throw new StaleError('source changed while being read: shorter than planned');
        got += bytesRead;
      }
      return buf;
    },
    check: () => checkSource(src, abs, true),
    close: () => fs.closeSync(src.fd),
  };
}

/** Why an object is not the one an entry describes (its type, size, time, target), or undefined. */
export function objectMismatch(info: ObjectInfo | undefined, e: EntryBody): string | undefined {
  if (info === undefined) return 'changed since the scan: gone';
  const now = entryOfObject(typeOfObject(info.meta), info, null);
  if (now.type !== e.type) return `changed since the scan: now a ${now.type}, was a ${e.type}`;
  if (e.type === 'file' && e.size !== undefined && info.size !== e.size) return `changed since the scan: size ${e.size} -> ${info.size}`;
  if (e.mtime !== undefined && now.mtime !== e.mtime) return 'changed since the scan: mtime moved';
  if (e.type === 'symlink' && now.target !== e.target) return 'changed since the scan: link target differs';
  return undefined;
}

/** An object to copy from, checked against the plan's entry; ranges are read only while its ETag holds. */
export async function objectSource(bucket: Bucket, key: string, e: EntryBody): Promise<ByteSource & { info: ObjectInfo }> {
  const info = await bucket.head(key);
  const why = objectMismatch(info, e);
  if (why !== undefined) throw new StaleError(`source ${why}`);
  return {
    info: info!,
    size: info!.size,
    read: (offset, length) =>
      bucket.readRange(key, offset, length, info!.etag).catch((err: { status?: number }) => {
        if (err.status === 412) throw new StaleError('source changed while being read');
        throw err;
      }),
    check() {},
  };
}
