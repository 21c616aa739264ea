import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT, tempDir } from './run';

/** The keys s3rver takes (any request signed with them is accepted). */
export const S3_ENV = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' };

export interface S3Server {
  endpoint: string;
  /** The directory s3rver keeps its buckets in. */
  dir: string;
  stop(): Promise<void>;
}

/** A real s3rver process on loopback (scripts/s3-server.ts), with these buckets. */
export async function startS3(...buckets: string[]): Promise<S3Server> {
  const dir = path.join(tempDir('cairn-s3-'), 'data');
  const child: ChildProcess = spawn(process.execPath, ['--openssl-legacy-provider', path.join(ROOT, 'dist', 'scripts', 's3-server.js'), dir, ...buckets], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  process.on('exit', () => child.kill('SIGKILL'));
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`s3-server exited with ${code}`)));
  });
  const { endpoint } = JSON.parse(line) as { endpoint: string };
  return {
    endpoint,
    dir,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}

/** The environment for a cairn command against the server. */
export function s3Env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, ...S3_ENV, ...extra };
}

/**
 * rclone (Debian's) pointed at the server through environment variables
 * only. AWS_CA_BUNDLE is dropped: rclone 1.60 refuses to start where it
 * is set ("LoadCustomCABundleError ... unsupported transport").
 */
export function rclone(endpoint: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    RCLONE_CONFIG: '/dev/null',
    RCLONE_CONFIG_T_TYPE: 's3',
    RCLONE_CONFIG_T_PROVIDER: 'Other',
    RCLONE_CONFIG_T_ENDPOINT: endpoint,
    RCLONE_CONFIG_T_ACCESS_KEY_ID: S3_ENV.AWS_ACCESS_KEY_ID,
    RCLONE_CONFIG_T_SECRET_ACCESS_KEY: S3_ENV.AWS_SECRET_ACCESS_KEY,
    RCLONE_CONFIG_T_REGION: 'us-east-1',
  };
  delete env.AWS_CA_BUNDLE;
  const r = spawnSync('rclone', args, { env, encoding: 'utf8', maxBuffer: 1 << 28 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** What the fault proxy saw of multipart uploads: each one started must be completed or aborted. */
export interface UploadLedger {
  started: Set<string>;
  completed: Set<string>;
  aborted: Set<string>;
  /** Started, but the answer with the id was cut: the client never learned it, and cannot abort it (a lifecycle rule's job). */
  unheard: Set<string>;
}

export interface FaultProxy {
  endpoint: string;
  ledger: UploadLedger;
  /** Requests seen, and how many were failed on purpose. */
  counts: { requests: number; failed503: number; cut: number };
  /** Requests by method (and `?delete` for DeleteObjects): what a client really sent. */
  byKind: Map<string, number>;
  /** Change the share of requests failed from now on. */
  setRate(rate: number): void;
  close(): Promise<void>;
}

/**
 * A small HTTP proxy in front of the server that fails a share of the
 * requests, chosen by a seeded PRNG: half of them get a 503 SlowDown
 * without reaching the server, the other half reach it and have their
 * answer's connection cut half-way (the client cannot tell what happened).
 * It also keeps the ledger of multipart uploads, read from the traffic.
 */
export async function faultProxy(target: string, rate: number, seed = 7): Promise<FaultProxy> {
  const to = new URL(target);
  let s = seed >>> 0;
  const random = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const ledger: UploadLedger = { started: new Set(), completed: new Set(), aborted: new Set(), unheard: new Set() };
  const counts = { requests: 0, failed503: 0, cut: 0 };
  const byKind = new Map<string, number>();
  const server = http.createServer((req, res) => {
    counts.requests++;
    const url = new URL(req.url ?? '/', 'http://x');
    const uploadId = url.searchParams.get('uploadId');
    const kind = `${req.method}${url.searchParams.has('delete') ? ' ?delete' : ''}`;
    byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
    if (req.method === 'DELETE' && uploadId !== null) ledger.aborted.add(uploadId);
    const roll = random();
    if (roll < rate / 2) {
      counts.failed503++;
      req.resume();
      res.writeHead(503, { 'content-type': 'application/xml' });
      res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>');
      return;
    }
    const cut = roll < rate;
    const up = http.request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      const chunks: Buffer[] = [];
      answer.on('data', (c: Buffer) => chunks.push(c));
      answer.on('end', () => {
        const body = Buffer.concat(chunks);
        const text = body.toString('utf8');
        if (answer.statusCode === 200 && req.method === 'POST') {
          const started = /<UploadId>([^<]+)<\/UploadId>/.exec(text);
          if (url.searchParams.has('uploads') && started) {
            ledger.started.add(started[1]!);
            if (cut) ledger.unheard.add(started[1]!);
          }
          if (uploadId !== null) ledger.completed.add(uploadId);
        }
        if (cut) {
          counts.cut++;
          // The server did the work; the client hears half an answer, then nothing.
          res.writeHead(answer.statusCode ?? 500, { ...answer.headers, 'content-length': String(body.length) });
          res.write(body.subarray(0, body.length >> 1));
          res.socket?.destroy();
          return;
        }
        res.writeHead(answer.statusCode ?? 500, answer.headers);
        res.end(body);
      });
    });
    up.on('error', () => res.socket?.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    ledger,
    counts,
    byKind,
    setRate(r) {
      rate = r;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
