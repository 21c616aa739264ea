/**
 * A real S3 server (s3rver) on loopback, for the tests, the demo and the
 * bench: `node --openssl-legacy-provider dist/scripts/s3-server.js DIR
 * BUCKET...` prints `{"endpoint":"http://127.0.0.1:PORT"}` once it listens,
 * and serves until its stdin closes or it is signalled. (s3rver makes its
 * continuation tokens with DES, which OpenSSL 3 has only in its legacy
 * provider: without the flag every paged listing fails with a 500.)
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('s3rver');

async function main(): Promise<void> {
  const [dir, ...buckets] = process.argv.slice(2);
  if (dir === undefined) {
    process.stderr.write('usage: s3-server DIR [BUCKET...]\n');
    process.exit(2);
  }
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: dir,
    configureBuckets: buckets.map((name) => ({ name })),
  });
  const { port } = await server.run();
  process.stdout.write(`${JSON.stringify({ endpoint: `http://127.0.0.1:${port}` })}\n`);
  const stop = () => {
    // close() waits for idle keep-alive connections of the clients: do not wait long for them.
    setTimeout(() => process.exit(0), 500).unref();
    server.close().finally(() => process.exit(0));
  };
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

void main();
