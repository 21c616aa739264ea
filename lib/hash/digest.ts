import type * as Crypto from 'node:crypto';
import { UsageError } from '../cli/errors';
import type { HashAlg } from '../records/types';

/**
 * A content hash under way: node:crypto's Hash has this shape, and so has the
 * pooled BLAKE3 hasher below. Every content hash in cairn goes through here,
 * so an algorithm is added in one place.
 */
export interface Digest {
  update(data: Uint8Array): Digest;
  /** The lower-case hex digest. The Digest must not be used after. */
  digest(encoding: 'hex'): string;
}

interface Blake3Hasher {
  update(data: Uint8Array): unknown;
  digest(format: 'hex'): string;
  reset(): void;
}
interface Blake3Module {
  Blake3Hasher: new () => Blake3Hasher;
}

// Both loaded on first use: node:crypto costs 2 ms, the BLAKE3 addon 3.5 ms, and most runs hash nothing.
let crypto: typeof Crypto | undefined;
let blake3: Blake3Module | null | undefined;
let blake3Error = '';

function nodeCrypto(): typeof Crypto {
  return (crypto ??= require('node:crypto') as typeof Crypto);
}

/**
 * The BLAKE3 module, or null when its prebuilt addon does not load on this
 * platform (blake3Error says why). On glibc Linux the platform's package is
 * loaded directly: the package's own loader asks process.report whether
 * libc is musl, which costs 7 ms of the 9 it takes.
 */
function blake3Module(): Blake3Module | null {
  if (blake3 === undefined) {
    try {
      try {
        // musl's loader present: perhaps gcompat, which might load the glibc build; the package's loader picks the musl one.
        const musl = `/lib/ld-musl-${process.arch === 'x64' ? 'x86_64' : 'aarch64'}.so.1`;
        if (process.platform !== 'linux' || (process.arch !== 'x64' && process.arch !== 'arm64') || require('node:fs').existsSync(musl)) throw new Error('not glibc Linux');
        blake3 = require(`@napi-rs/blake-hash-linux-${process.arch}-gnu`) as Blake3Module;
      } catch {
        blake3 = require('@napi-rs/blake-hash') as Blake3Module;
      }
    } catch (err) {
      blake3 = null;
      // The loader's own message is long and names npm bugs: the first line of the cause is enough.
      const cause = String((err as Error).message ?? err).split('\n')[0]!;
      blake3Error = `not available here: @napi-rs/blake-hash has no working build for ${process.platform}-${process.arch} (${cause})`;
    }
  }
  return blake3;
}

/** Why `alg` cannot be hashed on this machine, or undefined when it can: for a usage error before any work. */
export function unavailable(alg: HashAlg): string | undefined {
  return alg === 'blake3' && blake3Module() === null ? blake3Error : undefined;
}

/**
 * A BLAKE3 hasher handed back to the pool by digest(): the addon's hasher is
 * a native object whose creation and finalisation cost 8-12 us, six times
 * the hashing of a small file; a reset one costs nothing.
 */
const pool: Blake3Hasher[] = [];

class PooledBlake3 implements Digest {
  private h: Blake3Hasher | undefined;
  constructor(m: Blake3Module) {
    this.h = pool.pop() ?? new m.Blake3Hasher();
  }
  update(data: Uint8Array): Digest {
    this.h!.update(data);
    return this;
  }
  digest(): string {
    const h = this.h!;
    this.h = undefined;
    const hex = h.digest('hex');
    h.reset();
    pool.push(h);
    return hex;
  }
}

/**
 * Refuses, as a usage error naming `what` (the stream or file whose hashes
 * are in `alg`), a run that would have to compute hashes this machine
 * cannot: called before the first side effect, so that nothing is done
 * half-way (files copied but not verified, a tree restored in part).
 */
export function requireAlg(alg: HashAlg | null | undefined, what: string): void {
  const why = alg != null ? unavailable(alg) : undefined;
  if (why !== undefined) throw new UsageError(`${what}: ${alg}`, why);
}

/** A new hash of `alg`; a usage error when it cannot be computed here (commands check unavailable() first). */
export function newDigest(alg: HashAlg): Digest {
  if (alg !== 'blake3') return nodeCrypto().createHash(alg);
  const m = blake3Module();
  if (m === null) throw new UsageError('blake3', blake3Error);
  return new PooledBlake3(m);
}

/** Node 20.12's one-shot hash: no Hash object per small file (a third of their hashing time, measured). */
let oneShot: ((alg: string, data: Uint8Array, enc: 'hex') => string) | null | undefined;

/** The hex digest of `data` in `alg`, for whole small files. */
export function hexOf(alg: HashAlg, data: Uint8Array): string {
  if (alg === 'blake3') return newDigest(alg).update(data).digest('hex');
  oneShot ??= (nodeCrypto() as unknown as { hash?: typeof oneShot }).hash ?? null;
  return oneShot !== null ? oneShot(alg, data, 'hex') : nodeCrypto().createHash(alg).update(data).digest('hex');
}

/** The algorithm of an `alg:hex` hash. */
export function algOfHash(hash: string): HashAlg {
  return hash.slice(0, hash.indexOf(':')) as HashAlg;
}
