import type { Entry } from './types';

const str = JSON.stringify;

/**
 * One entry as its JSON line (without newline), fields in the order of
 * cairn-records(5) whatever order they were set in. Hand-built because it
 * runs once per object of every tree: 0.3 us against 0.7 us for
 * JSON.stringify here. Strings that may hold anything go through
 * JSON.stringify; times, modes and hashes are cairn's own ASCII.
 */
export function entryLine(e: Entry): string {
  let s = `{"path":${str(e.path)}`;
  if (e.path_b64 !== undefined) s += `,"path_b64":"${e.path_b64}"`;
  s += `,"type":"${e.type}"`;
  if (e.size !== undefined) s += `,"size":${e.size}`;
  if (e.mtime !== undefined) s += `,"mtime":"${e.mtime}"`;
  if (e.mode !== undefined) s += `,"mode":"${e.mode}"`;
  if (e.uid !== undefined) s += `,"uid":${e.uid}`;
  if (e.gid !== undefined) s += `,"gid":${e.gid}`;
  if (e.user !== undefined) s += `,"user":${str(e.user)}`;
  if (e.group !== undefined) s += `,"group":${str(e.group)}`;
  if (e.target !== undefined) s += `,"target":${str(e.target)}`;
  if (e.target_b64 !== undefined) s += `,"target_b64":"${e.target_b64}"`;
  if (e.rdev !== undefined) s += `,"rdev":${e.rdev}`;
  if (e.ino !== undefined) s += `,"ino":${str(e.ino)}`;
  if (e.nlink !== undefined) s += `,"nlink":${e.nlink}`;
  if (e.dev !== undefined) s += `,"dev":${e.dev}`;
  if (e.hash !== undefined) s += `,"hash":"${e.hash}"`;
  if (e.ctime !== undefined) s += `,"ctime":"${e.ctime}"`;
  if (e.error !== undefined) s += `,"error":${str(e.error)}`;
  if (e.unscanned !== undefined) s += `,"unscanned":${str(e.unscanned)}`;
  return `${s}}`;
}
