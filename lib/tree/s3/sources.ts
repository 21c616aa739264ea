import * as fs from 'node:fs';
import { formatTime } from '../../records/time';
import type { EntryBody } from '../../records/types';
import { fstatOf } from '../local/stat';
import type { FsPath } from '../local/list-dir';
import { StaleError } from '../local/write';
import type { Bucket } from './bucket';
import { entryOfObject, typeOfObject, type ObjectInfo } from './meta';
import type { ByteSource } from './upload';

const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = fs.constants;

/**
 * A local file to upload, opened once and checked against the plan's
 * entry (a regular file of that size and mtime) before the first byte and
 * after the last: a file edited meanwhile makes the action stale.
 */
export function fileSource(abs: FsPath, e: EntryBody): ByteSource & { close(): void } {
  const fd = fs.openSync(abs, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  try {
    const before = fstatOf(fd);
    if ((before.mode & 0o170000) !== 0o100000) throw new StaleError('source changed since the scan: no longer a regular file');
    if (before.size !== e.size || formatTime(before.mtimeSec, before.mtimeNsec) !== e.mtime) throw new StaleError('source changed since the scan');
    return {
      size: before.size,
      async read(offset, length) {
        const buf = Buffer.allocUnsafe(length);
        let got = 0;
        while (got < length) {
          const { bytesRead } = await new Promise<{ bytesRead: number }>((resolve, reject) =>
            fs.read(fd, buf, got, length - got, offset + got, (err, bytesRead) => (err ? reject(err) : resolve({ bytesRead }))),
          );
          if (bytesRead === 0) throw new StaleError('source changed while being read: shorter than planned');
          got += bytesRead;
        }
        return buf;
      },
      check() {
        const after = fstatOf(fd);
        if (after.size !== before.size || after.mtimeSec !== before.mtimeSec || after.mtimeNsec !== before.mtimeNsec || after.ctimeSec !== before.ctimeSec || after.ctimeNsec !== before.ctimeNsec) {
          throw new StaleError('source changed while being read');
        }
      },
      close() {
        fs.closeSync(fd);
      },
    };
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
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
