// One-way message channel from one device to another through a SharedArrayBuffer ring.
//
// Layout of the buffer: a 128-byte control header, then `capacity` bytes of ring (a power
// of two). The header holds two Int32 counters, on different cache lines so the two
// threads do not bounce one line: HEAD (bytes ever written, mod 2^32) written only by the
// sender, TAIL (bytes ever consumed) written only by the receiver. used = HEAD − TAIL
// (two's-complement wrap makes the subtraction right across 2^32); position = counter &
// (capacity − 1). A record is
//     [ tagBytes i32 | totalFloats i32 | offsetFloats i32 | chunkFloats i32 ] tag (UTF-8,
//     padded to 4) payload (chunkFloats f32)
// and may wrap around the end of the ring (it is copied in two pieces). The sender writes
// the record, then publishes it with Atomics.store(HEAD) + Atomics.notify; the receiver
// reads HEAD with Atomics.load (sequentially consistent: the record's bytes are visible),
// copies the record out, and releases the space with Atomics.store(TAIL) + notify.
//
// Sends never block. A message is cut into chunks of at most capacity/4 (so the receiver
// copies one chunk out while the sender writes the next); what does not fit now waits in
// the sender's unbounded in-memory queue, and a flusher (Atomics.waitAsync on TAIL, so the
// thread's event loop stays free to run the device's program) writes it as space frees.
// The ring is sized from the plan's largest message between the pair (run-workers.ts), so
// in the common case a whole message is written at once; the queue makes correctness
// independent of the size. The receiver reassembles chunks per tag.
//
// Waiting never blocks the thread either: Atomics.waitAsync on HEAD, bounded by the
// caller's deadline.

const HEAD = 0;
/** Int32 index of TAIL: 64 bytes after HEAD (another cache line). */
const TAIL = 16;
export const CONTROL_BYTES = 128;
const RECORD_HEADER = 16;

export function ringBytes(sab: SharedArrayBuffer): number {
  return sab.byteLength - CONTROL_BYTES;
}

/** A channel buffer with a ring of at least `capacity` bytes (rounded up to a power of two, ≥ 1 KiB). */
export function createChannelBuffer(capacity: number): SharedArrayBuffer {
  let cap = 1024;
  while (cap < capacity) cap *= 2;
  if (cap > 1 << 30) throw new RangeError(`channel ring of ${capacity} bytes is too large`);
  return new SharedArrayBuffer(CONTROL_BYTES + cap);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function pad4(n: number): number {
  return (n + 3) & ~3;
}

/** Byte copies into and out of the ring, split at its end. */
class Ring {
  readonly ctrl: Int32Array;
  readonly bytes: Uint8Array;
  readonly cap: number;
  readonly mask: number;

  constructor(sab: SharedArrayBuffer) {
    this.ctrl = new Int32Array(sab, 0, CONTROL_BYTES / 4);
    this.cap = sab.byteLength - CONTROL_BYTES;
    if (this.cap <= 0 || (this.cap & (this.cap - 1)) !== 0) throw new RangeError("channel buffer: ring size must be a power of two");
    this.mask = this.cap - 1;
    this.bytes = new Uint8Array(sab, CONTROL_BYTES, this.cap);
  }

  write(pos: number, src: Uint8Array): void {
    const at = pos & this.mask;
    const first = Math.min(src.length, this.cap - at);
    this.bytes.set(first === src.length ? src : src.subarray(0, first), at);
    if (first < src.length) this.bytes.set(src.subarray(first), 0);
  }

  read(pos: number, dst: Uint8Array): void {
    const at = pos & this.mask;
    const first = Math.min(dst.length, this.cap - at);
    dst.set(this.bytes.subarray(at, at + first));
    if (first < dst.length) dst.set(this.bytes.subarray(0, dst.length - first), first);
  }
}

/** Raised when a wait passes its deadline; the caller names the device and instruction. */
export class ChannelTimeout extends Error {
  constructor(readonly what: string, readonly waitedMs: number) {
    super(`${what}: no progress for ${Math.round(waitedMs)} ms`);
    this.name = "ChannelTimeout";
  }
}

// Atomics.waitAsync is in Node ≥ 16 but only in TypeScript's es2024 lib; the project targets es2022.
type WaitAsyncResult = { async: false; value: "not-equal" | "timed-out" } | { async: true; value: Promise<"ok" | "timed-out"> };
const waitAsync = (Atomics as unknown as { waitAsync: (a: Int32Array, index: number, value: number, timeoutMs: number) => WaitAsyncResult }).waitAsync;

/** Waits (without blocking the thread) until ctrl[index] differs from `seen` or `ms` pass; false on timeout. */
async function waitChange(ctrl: Int32Array, index: number, seen: number, ms: number): Promise<boolean> {
  if (Atomics.load(ctrl, index) !== seen) return true;
  const r = waitAsync(ctrl, index, seen, Math.max(0, ms));
  if (!r.async) return r.value !== "timed-out" || Atomics.load(ctrl, index) !== seen;
  // A pending waitAsync does not keep Node's event loop alive: without this timer a
  // thread with nothing else to do would exit in the middle of a receive.
  const alive = setTimeout(() => undefined, Math.max(0, ms) + 1000);
  try {
    const v = await r.value;
    return v !== "timed-out" || Atomics.load(ctrl, index) !== seen;
  } finally {
    clearTimeout(alive);
  }
}

interface Outgoing {
  tag: Uint8Array;
  /** The message, or (once queued) our copy of its unwritten rest. */
  data: Float32Array;
  /** Index in the whole message of data[0], and the whole message's length. */
  base: number;
  total: number;
  /** Floats of `data` already written. */
  offset: number;
  /** Every chunk written (an empty message is one record with no payload). */
  done: boolean;
}

export class ShmSender {
  private readonly ring: Ring;
  private readonly queue: Outgoing[] = [];
  private flushing = false;
  private readonly scratch = new Int32Array(RECORD_HEADER / 4);
  private readonly scratchBytes = new Uint8Array(this.scratch.buffer);
  /** Bytes sent (payload only), for the bandwidth benchmark. */
  sentBytes = 0;

  /**
   * `onStall` is called when queued data could not be written for `timeoutMs` (the
   * receiver stopped reading): the device reports it as a timeout.
   */
  constructor(sab: SharedArrayBuffer, private readonly timeoutMs: number, private readonly onStall: (e: ChannelTimeout) => void, private readonly label = "channel") {
    this.ring = new Ring(sab);
  }

  /** Messages (or their rests) waiting for ring space. */
  pending(): number {
    return this.queue.length;
  }

  /** Sends `data` under `tag`: writes what fits now, queues the rest; never blocks. */
  send(tag: string, data: Float32Array): void {
    const m: Outgoing = { tag: encoder.encode(tag), data, base: 0, total: data.length, offset: 0, done: false };
    if (this.queue.length === 0) {
      this.writeSome(m);
      if (m.done) return;
    }
    // Keep our own copy of the unwritten rest: the caller may reuse its buffer at once.
    m.data = data.slice(m.offset);
    m.base = m.offset;
    m.offset = 0;
    this.queue.push(m);
    this.startFlush();
  }

  /** Writes as many chunks of `m` as fit now; advances m.offset, sets m.done. */
  private writeSome(m: Outgoing): void {
    const ring = this.ring;
    const ctrl = ring.ctrl;
    const tagLen = pad4(m.tag.length);
    const maxChunk = Math.max(1, Math.floor((ring.cap / 4 - RECORD_HEADER - tagLen) / 4));
    while (!m.done) {
      const remaining = m.data.length - m.offset;
      const head = Atomics.load(ctrl, HEAD);
      const tail = Atomics.load(ctrl, TAIL);
      const free = ring.cap - ((head - tail) | 0);
      const room = Math.floor((free - RECORD_HEADER - tagLen) / 4);
      if (room < 0) return;
      const chunk = Math.min(remaining, room, maxChunk);
      if (remaining > 0 && chunk <= 0) return;
      // A sliver of room while much remains: wait for the receiver rather than write tiny records.
      if (chunk < remaining && chunk < Math.min(maxChunk, 1024)) return;
      const s = this.scratch;
      s[0] = m.tag.length;
      s[1] = m.total;
      s[2] = m.base + m.offset;
      s[3] = chunk;
      let pos = head;
      ring.write(pos, this.scratchBytes);
      pos += RECORD_HEADER;
      ring.write(pos, m.tag);
      pos += tagLen;
      if (chunk > 0) {
        ring.write(pos, new Uint8Array(m.data.buffer, m.data.byteOffset + m.offset * 4, chunk * 4));
        pos += chunk * 4;
      }
      Atomics.store(ctrl, HEAD, pos | 0);
      Atomics.notify(ctrl, HEAD);
      this.sentBytes += chunk * 4;
      m.offset += chunk;
      if (m.offset === m.data.length) m.done = true;
    }
  }

  private startFlush(): void {
    if (this.flushing) return;
    this.flushing = true;
    void this.flush().finally(() => {
      this.flushing = false;
    });
  }

  private async flush(): Promise<void> {
    const ctrl = this.ring.ctrl;
    let lastProgress = Date.now();
    while (this.queue.length) {
      const m = this.queue[0];
      // Read TAIL before trying: if the receiver frees space after our attempt, the wait
      // below sees a changed value and returns at once (no lost wake-up).
      const seenTail = Atomics.load(ctrl, TAIL);
      const before = m.offset;
      this.writeSome(m);
      if (m.done) {
        this.queue.shift();
        lastProgress = Date.now();
        continue;
      }
      if (m.offset !== before) lastProgress = Date.now();
      const left = this.timeoutMs - (Date.now() - lastProgress);
      if (left <= 0) {
        this.onStall(new ChannelTimeout(`${this.label}: the receiver did not take queued data`, this.timeoutMs));
        return;
      }
      await waitChange(ctrl, TAIL, seenTail, left);
    }
  }
}

interface Partial {
  data: Float32Array;
  got: number;
}

export class ShmReceiver {
  private readonly ring: Ring;
  /** Complete messages not yet asked for, by tag. */
  private readonly mailbox = new Map<string, Float32Array>();
  private readonly partial = new Map<string, Partial>();
  private readonly header = new Int32Array(RECORD_HEADER / 4);
  private readonly headerBytes = new Uint8Array(this.header.buffer);

  constructor(sab: SharedArrayBuffer, private readonly label = "channel") {
    this.ring = new Ring(sab);
  }

  /** Copies every complete record out of the ring (releasing its space) into the mailbox. */
  drain(): void {
    const ring = this.ring;
    const ctrl = ring.ctrl;
    let tail = Atomics.load(ctrl, TAIL);
    const head = Atomics.load(ctrl, HEAD);
    if (tail === head) return;
    while (tail !== head) {
      ring.read(tail, this.headerBytes);
      const [tagBytes, total, offset, chunk] = this.header;
      let pos = tail + RECORD_HEADER;
      const tagBuf = new Uint8Array(tagBytes);
      ring.read(pos, tagBuf);
      pos += pad4(tagBytes);
      const tag = decoder.decode(tagBuf);
      let p = this.partial.get(tag);
      if (!p) {
        if (this.mailbox.has(tag)) throw new Error(`${this.label}: a second message tagged ${tag}`);
        p = { data: new Float32Array(total), got: 0 };
        this.partial.set(tag, p);
      }
      if (chunk > 0) {
        ring.read(pos, new Uint8Array(p.data.buffer, offset * 4, chunk * 4));
        pos += chunk * 4;
      }
      p.got += chunk;
      if (p.got >= total) {
        this.partial.delete(tag);
        this.mailbox.set(tag, p.data);
      }
      tail = pos | 0;
      // Release each record at once so that a sender waiting for space can go on.
      Atomics.store(ctrl, TAIL, tail);
      Atomics.notify(ctrl, TAIL);
    }
  }

  /** The message tagged `tag` if it has fully arrived (removed from the mailbox). */
  take(tag: string): Float32Array | undefined {
    let m = this.mailbox.get(tag);
    if (!m) {
      this.drain();
      m = this.mailbox.get(tag);
    }
    if (m) this.mailbox.delete(tag);
    return m;
  }

  /** Resolves with message `tag`; rejects with ChannelTimeout after `timeoutMs` without it. */
  async receive(tag: string, timeoutMs: number): Promise<Float32Array> {
    const deadline = Date.now() + timeoutMs;
    const ctrl = this.ring.ctrl;
    for (;;) {
      const seen = Atomics.load(ctrl, HEAD);
      const m = this.take(tag);
      if (m) return m;
      const left = deadline - Date.now();
      if (left <= 0) throw new ChannelTimeout(`${this.label}: waiting for message ${tag}`, timeoutMs);
      await waitChange(ctrl, HEAD, seen, left);
    }
  }

  /** Messages (complete or partial) that arrived and were not taken. */
  unclaimed(): string[] {
    this.drain();
    return [...this.mailbox.keys(), ...this.partial.keys()];
  }
}
