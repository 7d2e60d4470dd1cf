// A bounded pool of plain (non-shared) Float32Arrays, each over a whole ArrayBuffer, for
// the shared-memory channels' message copies: a sender's queued rests (shm-channel.ts)
// and hand-off payloads (shm-handoff.ts). Reusing them matters for large messages:
// a fresh multi-MiB ArrayBuffer costs its page faults again on first touch.

export class FloatPool {
  private readonly free: Float32Array<ArrayBuffer>[] = [];
  private bytes = 0;

  constructor(private readonly limitBytes: number) {}

  /**
   * An array of at least `n` floats (its whole buffer: callers view the first `n`). A
   * pooled one is taken only if it is at most about twice `n`, so a small message does
   * not pin a large buffer.
   */
  acquire(n: number): Float32Array<ArrayBuffer> {
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const l = this.free[i].length;
      if (l >= n && l <= 2 * n + 1024 && (best < 0 || l < this.free[best].length)) best = i;
    }
    if (best < 0) return new Float32Array(n);
    const b = this.free[best];
    this.free[best] = this.free[this.free.length - 1];
    this.free.pop();
    this.bytes -= b.byteLength;
    return b;
  }

  /** Keeps `b` (a whole-buffer array nobody else uses) for reuse, unless the pool is full. */
  release(b: Float32Array<ArrayBuffer>): void {
    if (b.byteLength === 0 || this.bytes + b.byteLength > this.limitBytes) return;
    this.free.push(b);
    this.bytes += b.byteLength;
  }

  /** Bytes held (for tests). */
  heldBytes(): number {
    return this.bytes;
  }
}
