import * as zlib from 'node:zlib';
import { partName, rawBytes } from '../pack/member';
import { isHash } from '../records/entries';

/** What a volume's descriptor says of the members of its tar, keyed by name bytes as latin1 (a part under its part name). */
export interface DescriptorFacts {
  /** `alg:hex` of every file (and part) whose hash is of a known form. */
  hashes: Map<string, string>;
  /** The type of every fifo and device node: the only types restore asks about. */
  specials: Map<string, string>;
}

const SPECIAL = new Set(['fifo', 'char', 'block']);

/** A descriptor record as far as restore reads it. */
interface Facts {
  path: string;
  path_b64?: string;
  type: string;
  hash?: string;
  part?: { offset: number; hash: string };
}

/** Anything that stops a line from being read by quickFacts: an escape, a control character, a nested object. */
const NOT_PLAIN = /[\\\x00-\x1f]|.\{/s;

/**
 * The facts of a line as cairn-pack writes most of them, read without
 * JSON.parse (a third of the time a 100k-file restore spent on its
 * descriptor): `{"path":"…","type":"…",…}` with no escape in it (so every
 * quote delimits a string), no nested object, no path_b64, each key once
 * and `"hash":"` without a space. Undefined when the line is not of that
 * shape: JSON.parse reads it. (A line of that shape that JSON.parse would
 * refuse, such as one with a stray word before its closing brace, is
 * read: it says no more than a well-formed line could.)
 */
export function quickFacts(line: string): Facts | undefined {
  if (!line.startsWith('{"path":"') || line.charCodeAt(line.length - 1) !== 0x7d || NOT_PLAIN.test(line)) return undefined;
  const pathEnd = line.indexOf('"', 9);
  if (!line.startsWith('","type":"', pathEnd)) return undefined;
  const typeStart = pathEnd + 10;
  const typeEnd = line.indexOf('"', typeStart);
  // Keys are looked for without their colon: JSON allows spaces before it.
  if (typeEnd < 0 || line.includes('"path"', typeEnd) || line.includes('"type"', typeEnd) || line.includes('"path_b64"', typeEnd)) return undefined;
  const f: Facts = { path: line.slice(9, pathEnd), type: line.slice(typeStart, typeEnd) };
  const h = line.indexOf('"hash"', typeEnd);
  if (h >= 0) {
    if (!line.startsWith('"hash":"', h) || line.includes('"hash"', h + 8)) return undefined;
    const end = line.indexOf('"', h + 8);
    if (end < 0) return undefined;
    f.hash = line.slice(h + 8, end);
  }
  return f;
}

/** The facts of any line, or undefined when it is not a record. */
function factsOf(line: string): Facts | undefined {
  const quick = quickFacts(line);
  if (quick !== undefined) return quick;
  try {
    const r = JSON.parse(line) as Facts;
    return typeof r === 'object' && r !== null && typeof r.path === 'string' && typeof r.type === 'string' ? r : undefined;
  } catch {
    return undefined; // not a record: ignored here (cairn-restore --catalog reads descriptors strictly)
  }
}

/**
 * What a volume's descriptor says of the members on it (the tar restore
 * checks each file against it). Unreadable records are left out: the
 * member is then restored without the check, as from any tar.
 */
export function descriptorFacts(raw: Buffer): DescriptorFacts {
  let text: string;
  try {
    text = (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b ? zlib.gunzipSync(raw, { maxOutputLength: 1 << 30 }) : raw).toString('utf8');
  } catch {
    text = '';
  }
  const hashes = new Map<string, string>();
  const specials = new Map<string, string>();
  for (let at = 0; at < text.length; ) {
    let nl = text.indexOf('\n', at);
    if (nl < 0) nl = text.length;
    const line = text.slice(at, nl);
    at = nl + 1;
    if (!line.startsWith('{"path"')) continue;
    const r = factsOf(line);
    if (r === undefined) continue;
    // The key is the name's bytes as latin1: an ASCII path is its own (no Buffer made for most names).
    const ascii = r.path_b64 === undefined && Buffer.byteLength(r.path) === r.path.length;
    const name = ascii ? undefined : rawBytes(r.path, r.path_b64);
    const key = name === undefined ? r.path : name.toString('latin1');
    if (SPECIAL.has(r.type)) specials.set(key, r.type);
    if (r.type !== 'file') continue;
    if (r.part !== undefined) {
      if (isHash(String(r.part.hash))) hashes.set(partName(name ?? Buffer.from(r.path), r.part.offset).toString('latin1'), r.part.hash);
    } else if (typeof r.hash === 'string' && isHash(r.hash)) hashes.set(key, r.hash);
  }
  return { hashes, specials };
}
