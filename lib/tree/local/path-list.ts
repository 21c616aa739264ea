/**
 * Paths as the addon's batch calls take them: NUL-terminated, back to back
 * in one Buffer, `ends[k]` the end of path k (after its NUL). Each path is
 * given in parts (a directory and a name), joined here without a copy of
 * their own.
 */
export class PathList {
  buf = Buffer.allocUnsafe(64 << 10);
  used = 0;
  readonly ends: Uint32Array;
  count = 0;

  constructor(capacity: number) {
    this.ends = new Uint32Array(capacity);
  }

  add(first: Buffer, second?: Buffer): void {
    const need = this.used + first.length + (second?.length ?? 0) + 1;
    if (need > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
      this.buf.copy(bigger, 0, 0, this.used);
      this.buf = bigger;
    }
    this.used += first.copy(this.buf, this.used);
    if (second !== undefined) this.used += second.copy(this.buf, this.used);
    this.buf[this.used++] = 0;
    this.ends[this.count++] = this.used;
  }

  /** Path k, without its NUL. */
  at(k: number): Buffer {
    return this.buf.subarray(k === 0 ? 0 : this.ends[k - 1]!, this.ends[k]! - 1);
  }

  clear(): void {
    this.used = 0;
    this.count = 0;
  }
}
