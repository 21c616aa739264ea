import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export { prng } from './prng';

const ODD_NAMES = ['a b', 'new\nline', 'eq=sign', 'back\\slash', 'déjà', '\u{1F389}', '.hidden', 'a.txt', 'a-b', 'Z'];
/** A name that is not valid UTF-8 ("caf" + Latin-1 é). */
export const RAW_NAME = Buffer.from([0x63, 0x61, 0x66, 0xe9]);

export class TreeMaker {
  constructor(
    readonly root: string,
    private readonly rnd: () => number,
  ) {}

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rnd() * xs.length)]!;
  }

  name(): string {
    return this.rnd() < 0.3 ? this.pick(ODD_NAMES) : `n${Math.floor(this.rnd() * 1000)}`;
  }

  /** A random past time with a nanosecond part. */
  time(): Date {
    return new Date(Date.UTC(2000 + Math.floor(this.rnd() * 24), 0, 1) + Math.floor(this.rnd() * 3e10));
  }

  touch(p: string): void {
    const ns = String(Math.floor(this.rnd() * 1e9)).padStart(9, '0');
    execFileSync('touch', ['-h', '-d', `${this.time().toISOString().slice(0, 19)}.${ns}Z`, p]);
  }

  content(): Buffer {
    const n = this.rnd() < 0.1 ? Math.floor(this.rnd() * 300_000) : Math.floor(this.rnd() * 2000);
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i += 97) b[i] = Math.floor(this.rnd() * 256);
    return b;
  }

  /** Fills dir with a random subtree of the given depth. */
  fill(dir: string, depth: number): void {
    const count = 2 + Math.floor(this.rnd() * 6);
    for (let i = 0; i < count; i++) {
      const p = path.join(dir, this.name());
      if (fs.existsSync(p) || isLink(p)) continue;
      const r = this.rnd();
      if (r < 0.5) {
        fs.writeFileSync(p, this.content(), { mode: this.pick([0o644, 0o600, 0o755, 0o640]) });
      } else if (r < 0.7 && depth > 0) {
        fs.mkdirSync(p);
        this.fill(p, depth - 1);
        fs.chmodSync(p, this.pick([0o755, 0o750, 0o700]));
      } else if (r < 0.8) {
        fs.symlinkSync(this.pick(['a.txt', '../x', 'nowhere', '/etc/hostname']), p);
      } else if (r < 0.85) {
        execFileSync('mkfifo', [p]);
      } else if (r < 0.95) {
        const files = fs.readdirSync(dir).filter((n) => !n.includes('\ufffd')).map((n) => path.join(dir, n)).filter((f) => fs.lstatSync(f).isFile());
        if (files.length > 0) fs.linkSync(this.pick(files), p);
      } else {
        fs.writeFileSync(Buffer.concat([Buffer.from(`${dir}/`), RAW_NAME, Buffer.from(String(i))]), this.content());
      }
      if (fs.existsSync(p) || isLink(p)) this.touch(p);
    }
    this.touch(dir);
  }

  /** Every path under root (not the root), deepest first. */
  all(): string[] {
    const out: string[] = [];
    const walk = (d: string) => {
      for (const n of fs.readdirSync(d)) {
        // Names that are not UTF-8 cannot be reached through a string: leave them as they are.
        if (n.includes('\ufffd')) continue;
        const p = path.join(d, n);
        if (fs.lstatSync(p).isDirectory()) walk(p);
        out.push(p);
      }
    };
    walk(this.root);
    return out;
  }

  /** One random change of the kinds a mirror must carry over. */
  mutate(): string {
    const paths = this.all();
    if (paths.length === 0) {
      this.fill(this.root, 2);
      return 'refill';
    }
    const p = this.pick(paths);
    const st = fs.lstatSync(p);
    const kind = this.pick(['new', 'change', 'grow', 'delete', 'retype', 'chmod', 'mtime', 'link', 'unlink'] as const);
    switch (kind) {
      case 'new':
        if (st.isDirectory()) this.fill(p, 1);
        else this.fill(path.dirname(p), 0);
        break;
      case 'change':
        if (st.isFile()) {
          // Same size, new bytes, new time: what rsync without --checksum also sees.
          const b = fs.readFileSync(p);
          if (b.length > 0) b[0] = (b[0]! + 1) % 256;
          fs.writeFileSync(p, b);
          this.touch(p);
        }
        break;
      case 'grow':
        if (st.isFile()) fs.appendFileSync(p, 'more');
        break;
      case 'delete':
        fs.rmSync(p, { recursive: true, force: true });
        break;
      case 'retype':
        fs.rmSync(p, { recursive: true, force: true });
        if (st.isDirectory()) fs.writeFileSync(p, 'was a dir');
        else if (st.isFile() && this.rnd() < 0.5) fs.symlinkSync('target-of-retyped', p);
        else {
          fs.mkdirSync(p);
          this.fill(p, 0);
        }
        if (fs.existsSync(p) || isLink(p)) this.touch(p);
        break;
      case 'chmod':
        if (!st.isSymbolicLink()) fs.chmodSync(p, st.isDirectory() ? this.pick([0o755, 0o711, 0o750]) : this.pick([0o600, 0o644, 0o755, 0o4755]));
        break;
      case 'mtime':
        this.touch(p);
        break;
      case 'link':
        if (st.isFile()) {
          const q = path.join(path.dirname(p), `hl${Math.floor(this.rnd() * 1000)}`);
          if (!fs.existsSync(q) && !isLink(q)) fs.linkSync(p, q);
        }
        break;
      case 'unlink':
        if (st.isFile() && st.nlink > 1) {
          const b = fs.readFileSync(p);
          fs.rmSync(p);
          fs.writeFileSync(p, b, { mode: st.mode & 0o7777 });
          this.touch(p);
        }
        break;
    }
    // The parent's time moved to now with the change, as the destination's will while syncing:
    // a past time makes a mirror that forgets directory times visible to rsync; half the time the
    // parent keeps its time, so only the destination's moved (by the rename of an update).
    if (this.rnd() < 0.5 && fs.existsSync(path.dirname(p))) this.touch(path.dirname(p));
    return `${kind} ${path.relative(this.root, p)}`;
  }
}

function isLink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
