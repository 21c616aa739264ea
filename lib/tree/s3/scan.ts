import type { Writable } from 'node:stream';
import { compileFilter } from '../../filter/rules';
import { NdjsonWriter } from '../../records/writer';
import { STREAM_VERSION, type EntriesHeader, type FilterRule, type HashAlg } from '../../records/types';
import { overrideCaps } from '../local/caps';
import { Bucket, asFatal, type S3Options } from './bucket';
import { S3_CAPS } from './caps';
import { parseS3 } from './location';
import { walkS3 } from './walk';

export interface S3ScanOptions extends S3Options {
  root: string;
  hash: HashAlg | null;
  rules: FilterRule[];
  caps?: string;
  tool: string;
  interrupted: () => boolean;
  warn: (what: string, why: string) => void;
}

/** cairn-scan of an s3:// location: the same stream as for a directory, with object storage's capabilities. */
export async function scanS3(o: S3ScanOptions, out?: Writable): Promise<{ entries: number; problems: number }> {
  const loc = parseS3(o.root);
  const filter = compileFilter(o.rules);
  const caps = o.caps !== undefined ? overrideCaps(S3_CAPS, o.caps) : S3_CAPS;
  const bucket = Bucket.open(loc, o);
  const writer = new NdjsonWriter(out);
  try {
    const r = await walkS3(
      bucket,
      { filter, hash: o.hash, interrupted: o.interrupted, warn: o.warn },
      (root) => {
        const header: EntriesHeader = {
          cairn: 'entries',
          version: STREAM_VERSION,
          root: bucket.root,
          hash: o.hash,
          caps,
          filters: filter.rules.slice(),
          options: { follow: false, one_file_system: false },
          ...(root !== undefined ? { root_entry: root } : {}),
          tool: o.tool,
          created: new Date().toISOString(),
        };
        writer.write(header);
      },
      async (e) => {
        writer.write(e);
        if (writer.blocked) await writer.drain();
      },
    );
    if (o.interrupted()) writer.flush();
    else await writer.end();
    return r;
  } catch (err) {
    throw asFatal(err);
  } finally {
    bucket.close();
  }
}
