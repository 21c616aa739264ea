import * as fs from 'node:fs';
import { algOfHash, newDigest } from '../../hash/digest';
import type { EntryBody } from '../../records/types';
import type { FsPath } from '../local/list-dir';
import { StaleError, type CopyResult } from '../local/write';
import type { Bucket } from './bucket';
import { metaSha256 } from './meta';
import { objectSource } from './sources';

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;

/**
 * Downloads the object an entry describes into a new file at `tmp`
 * (created exclusively), as cairn-apply copies a local file: checked
 * against the entry first, read only while its ETag holds, and its bytes
 * checked against the hash the entry (or the object's metadata) carries.
 */
export async function downloadInto(bucket: Bucket, key: string, e: EntryBody, tmp: FsPath): Promise<CopyResult> {
  const src = await objectSource(bucket, key, e);
  const sha = metaSha256(src.info);
  const want = e.hash ?? (sha !== undefined ? `sha256:${sha}` : undefined);
  const h = want !== undefined ? newDigest(algOfHash(want)) : undefined;
  const fd = fs.openSync(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o666);
  try {
    let pos = 0;
    await bucket.download(
      key,
      (chunk) => {
        for (let done = 0; done < chunk.length; ) done += fs.writeSync(fd, chunk, done, chunk.length - done, pos + done);
        pos += chunk.length;
        h?.update(chunk);
      },
      { etag: src.info.etag },
    ).catch((err: { status?: number }) => {
      if (err.status === 412) throw new StaleError('source changed while being read');
      throw err;
    });
    if (pos !== src.size) throw new StaleError(`source changed while being read: ${pos} of ${src.size} bytes`);
    if (h !== undefined && `${algOfHash(want!)}:${h.digest('hex')}` !== want) throw Object.assign(new Error(`EIO: the object's bytes do not have its hash ${want}`), { code: 'EVERIFY' });
    return { bytes: pos, fd: fs.openSync(tmp, fs.constants.O_RDONLY | O_NOFOLLOW) };
  } finally {
    fs.closeSync(fd);
  }
}
