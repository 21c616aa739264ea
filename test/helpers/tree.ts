import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Sets an exact time (nanoseconds) on a path without following links, via coreutils touch. */
export function setTime(p: string, iso: string): void {
  execFileSync('touch', ['-h', '-d', iso, p]);
}

/** Creates a Unix socket file at p (python3 keeps the file after closing, node removes it). */
export function makeSocket(p: string): void {
  execFileSync('python3', ['-c', 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.close()', p]);
}

/** Writes many small files fast: `count` files spread over directories of `perDir`. */
export function makeWideTree(root: string, count: number, perDir = 200): void {
  for (let i = 0; i < count; i++) {
    const dir = path.join(root, `d${String(Math.floor(i / perDir)).padStart(4, '0')}`);
    if (i % perDir === 0) fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `file-${String(i).padStart(6, '0')}.txt`), `content ${i}\n`);
  }
}
