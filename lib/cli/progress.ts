/**
 * Progress on stderr: files, bytes, rate. Redrawn in place on a terminal,
 * one line per interval otherwise (--progress into a log). Never on stdout.
 */
export class Progress {
  private files = 0;
  private bytes = 0;
  private readonly start = Date.now();
  private last = 0;
  private readonly tty: boolean;
  private readonly interval: number;

  constructor(
    private readonly prog: string,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {
    this.tty = out.isTTY === true;
    this.interval = this.tty ? 200 : 2000;
  }

  /** Counts work done; called per batch of entries, so looking at the clock each time is cheap. */
  add(files: number, bytes: number): void {
    this.files += files;
    this.bytes += bytes;
    const now = Date.now();
    if (now - this.last >= this.interval) {
      this.last = now;
      this.draw(now, false);
    }
  }

  done(): void {
    this.draw(Date.now(), true);
  }

  private draw(now: number, final: boolean): void {
    const secs = Math.max((now - this.start) / 1000, 0.001);
    const line = `${this.prog}: ${this.files} files, ${human(this.bytes)}, ${human(this.bytes / secs)}/s, ${Math.round(this.files / secs)} files/s`;
    this.out.write(this.tty ? `\r\x1b[K${line}${final ? '\n' : ''}` : `${line}\n`);
  }
}

export function human(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? Math.round(v) : v.toFixed(1)} ${units[u]}`;
}
