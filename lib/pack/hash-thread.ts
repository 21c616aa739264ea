import { hexOf, newDigest, type Digest } from '../hash/digest';
import type { HashAlg } from '../records/types';
import { parentPort, workerData } from 'node:worker_threads';

/**
 * The hashing thread of cairn-pack (see hasher.ts): hashes, in order, the
 * chunks of a file that the main thread has read into the shared output
 * buffers, and acknowledges each so that its buffer can be reused; and
 * batches of small files whole, answering with their digests.
 */
type Message =
  | { op: 'start'; alg: HashAlg }
  | { op: 'chunk'; id: number; b: number; o: number; n: number }
  | { op: 'end' }
  | { op: 'files'; id: number; alg: HashAlg; b: number; slots: Float64Array };

const buffers = (workerData as { buffers: SharedArrayBuffer[] }).buffers.map((s) => Buffer.from(s));
let hash: Digest | undefined;
parentPort!.on('message', (m: Message) => {
  if (m.op === 'files') {
    // Whole small files of one buffer: offset and size per file, a digest each (independent of any file under way).
    const buf = buffers[m.b]!;
    const digests: string[] = [];
    for (let k = 0; k < m.slots.length; k += 2) digests.push(hexOf(m.alg, buf.subarray(m.slots[k]!, m.slots[k]! + m.slots[k + 1]!)));
    parentPort!.postMessage({ ack: m.id, digests });
  } else if (m.op === 'start') hash = newDigest(m.alg);
  else if (m.op === 'chunk') {
    hash!.update(buffers[m.b]!.subarray(m.o, m.o + m.n));
    parentPort!.postMessage({ ack: m.id });
  } else {
    parentPort!.postMessage({ digest: hash!.digest('hex') });
    hash = undefined;
  }
});
