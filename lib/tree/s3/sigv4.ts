import { createHash, createHmac } from 'node:crypto';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** RFC 3986 encoding of a key for the request path, as S3 wants it: every byte but A-Z a-z 0-9 - . _ ~ and `/`. */
export function encodeKeyPath(key: string): string {
  return encodeURIComponent(key).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).replace(/%2F/g, '/');
}

/** The signing key of one day, region and service: derived once a day, not per request. */
class KeyCache {
  private day = '';
  private key: Buffer | undefined;
  private secret = '';

  get(secret: string, day: string, region: string): Buffer {
    if (this.key === undefined || day !== this.day || secret !== this.secret) {
      const hmac = (k: string | Buffer, d: string) => createHmac('sha256', k).update(d).digest();
      this.key = hmac(hmac(hmac(hmac(`AWS4${secret}`, day), region), 's3'), 'aws4_request');
      this.day = day;
      this.secret = secret;
    }
    return this.key;
  }
}

/**
 * Signature Version 4 headers for a request without a body (HEAD, GET),
 * as https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
 * gives them: host, x-amz-date, x-amz-content-sha256 (and the session
 * token) signed.
 */
export class Signer {
  private readonly keys = new KeyCache();

  constructor(private readonly region: string) {}

  headers(method: string, host: string, path: string, creds: Credentials, now = new Date()): Record<string, string> {
    const amzDate = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    const day = amzDate.slice(0, 8);
    const h: Record<string, string> = { host, 'x-amz-content-sha256': EMPTY_SHA256, 'x-amz-date': amzDate };
    if (creds.sessionToken !== undefined) h['x-amz-security-token'] = creds.sessionToken;
    const names = Object.keys(h).sort();
    const canonical = [method, path, '', ...names.map((n) => `${n}:${h[n]}`), '', names.join(';'), EMPTY_SHA256].join('\n');
    const scope = `${day}/${this.region}/s3/aws4_request`;
    const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
    const signature = createHmac('sha256', this.keys.get(creds.secretAccessKey, day, this.region)).update(toSign).digest('hex');
    const { host: _, ...rest } = h;
    return { ...rest, authorization: `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}` };
  }
}
