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
  private total: { files: number; bytes: number } | undefined;

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

  /** What the whole job is, when known: adds the share done and an ETA. */
  setTotal(files: number, bytes: number): void {
    this.total = { files, bytes };
  }

  done(): void {
    this.draw(Date.now(), true);
  }

  private draw(now: number, final: boolean): void {
    const secs = Math.max((now - this.start) / 1000, 0.001);
    let line = `${this.prog}: ${this.files} files, ${human(this.bytes)}, ${human(this.bytes / secs)}/s, ${Math.round(this.files / secs)} files/s`;
    const t = this.total;
    if (t !== undefined && !final) {
      // By bytes when there are any to move, else by files.
      const share = t.bytes > 0 ? this.bytes / t.bytes : t.files > 0 ? this.files / t.files : 1;
      const eta = share > 0 ? Math.max(0, Math.round((secs * (1 - share)) / share)) : undefined;
      line += `, ${Math.floor(share * 100)}%${eta !== undefined ? `, ETA ${Math.floor(eta / 60)}:${String(eta % 60).padStart(2, '0')}` : ''}`;
    }
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
