import { UsageError } from './errors';
import type { FlagSpec } from './flags';

/** The flags of every command that may reach object storage (an s3:// location). */
export const S3_FLAGS = {
  endpoint: { type: 'string', arg: 'URL', help: 'S3-compatible server for s3:// locations (default: AWS_ENDPOINT_URL, else AWS); path-style requests' },
  jobs: { type: 'string', short: 'j', arg: 'N', help: 'requests to object storage in flight at once (default 8)' },
} as const satisfies FlagSpec;

export interface S3FlagValues {
  endpoint: string | undefined;
  jobs: string | undefined;
}

/** The S3 options the flags give (the SDK reads credentials and region from the usual places). */
export function s3FromFlags(f: S3FlagValues, tries?: number): { endpoint?: string; jobs: number; tries: number } {
  let jobs = 8;
  if (f.jobs !== undefined) {
    jobs = Number(f.jobs);
    if (!/^\d+$/.test(f.jobs) || jobs < 1 || jobs > 256) throw new UsageError(`--jobs ${f.jobs}`, 'must be a whole number from 1 to 256');
  }
  if (f.endpoint !== undefined && !/^https?:\/\/[^/\s]+/.test(f.endpoint)) throw new UsageError(`--endpoint ${f.endpoint}`, 'must be an http:// or https:// URL');
  return { ...(f.endpoint !== undefined ? { endpoint: f.endpoint } : {}), jobs, tries: tries ?? 6 };
}
