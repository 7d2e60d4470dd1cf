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
// the record, then publishes it with Atomics.store(HEAD); the receiver reads HEAD with
// Atomics.load (sequentially consistent: the record's bytes are visible), copies the
// record out, and releases the space with Atomics.store(TAIL). Each side calls
// Atomics.notify only when the header's waiter count says the peer is asleep.
//
// Sends never block. A message is cut into chunks of at most capacity/2 (so the receiver
// copies one chunk out while the sender writes the next); what does not fit now waits in
// the sender's unbounded in-memory queue, and a flusher (Atomics.waitAsync on TAIL, so the
// thread's event loop stays free to run the device's program) writes it as space frees.
// The ring is sized from the plan's largest message between the pair (run-workers.ts), so
// in the common case a whole message is written at once; the queue makes correctness
// independent of the size. The receiver reassembles chunks per tag.
//
// Waiting: a short spin on Atomics.load (the peer is usually mid-copy of the next record),
// then a sleep in bounded slices, so a wake-up that goes astray costs one slice, never
// the whole deadline. The sleep is Atomics.waitAsync (the event loop stays free), except
// for a receive whose owner allows blocking (`canBlock`: a worker with no queued sends),
// which sleeps in Atomics.wait: a kernel wake-up instead of a promise on the event loop.
//
// Receiving avoids copies and allocations: `receiveInto` hands each chunk's payload to a
// sink straight out of the ring (the executor adds or copies it into the destination
// buffer; the all-reduce sums it into place), and the receiver consumes only up to the
// message it waits for, so later messages stay in the ring until asked for. Records for
// other tags met on the way are stashed in the mailbox (allocated copies) as before.
// Messages that did not fit in the ring are copied into pooled buffers, not fresh ones.
//
// Large messages (at least `minBytes`, when the channel has a hand-off port) skip the
// ring's two copies: the payload is copied once into a pooled plain buffer and
// transferred over the pair's MessagePort (shm-handoff.ts), and the ring carries only a
// record [tagBytes | totalFloats | ON_PORT | 0] tag, posted after the payload, so ring
// order is message order. The receiver takes the payload when it meets the record and
// hands it to the sink to adopt (no copy at all) or to copy out. A record flagged
// ON_PORT_SHARED instead carries a view of the sender's shared memory (`share`), which
// only a sink with `share` (the shared-memory all-reduce) may take.

import { types } from "node:util";
import type { MessagePort } from "node:worker_threads";
import { FloatPool } from "./f32-pool.js";
import { HandoffIn, HandoffOut, usesHandoff } from "./handoff.js";

const HEAD = 0;
/** Int32 index of TAIL: 64 bytes after HEAD (another cache line). */
const TAIL = 16;
/**
 * Waiters on HEAD (receives asleep, by the receiver) and on TAIL (a flusher asleep, by the
 * sender): a waiter adds itself, re-checks the counter and sleeps; the other side stores
 * its counter and then notifies only if the count is non-zero. Both are sequentially
 * consistent, so either the waiter sees the new counter or the notifier sees the waiter
 * (Atomics.wait also compares the counter atomically): no lost wake-up, and no
 * Atomics.notify at all while the peer is awake.
 */
const HEAD_WAITERS = 8;
const TAIL_WAITERS = 24;
export const CONTROL_BYTES = 128;
const RECORD_HEADER = 16;
/** A record's offset field for a message whose payload travels on the hand-off port. */
const ON_PORT = -1;
/** ... and for one whose port message is a view of the sender's shared memory. */
const ON_PORT_SHARED = -2;
/** Pause while a hand-off record is visible but its payload is not on the port yet (never observed: postMessage enqueues synchronously). */
const PORT_POLL_MS = 1;
/** Longest single Atomics.waitAsync; the callers loop until their own deadline. */
const WAIT_SLICE_MS = 50;
/** Default spin before sleeping (microseconds). */
export const DEFAULT_SPIN_US = 30;
/** Default largest chunk (bytes; at most half the ring is used). */
export const DEFAULT_CHUNK_BYTES = 1 << 30;

/** A channel's hand-off port (one end of a MessageChannel) and its size threshold in bytes. */
export interface HandoffOptions {
  port: MessagePort;
  minBytes: number;
}

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
const NO_FLOATS = new Float32Array(0);
const decoder = new TextDecoder();

function pad4(n: number): number {
  return (n + 3) & ~3;
}

/** Byte copies into and out of the ring, split at its end. Every record position is a multiple of 4. */
class Ring {
  readonly ctrl: Int32Array;
  readonly bytes: Uint8Array;
  /** The ring as words: headers and payloads are read in place. */
  readonly i32: Int32Array;
  readonly f32: Float32Array;
  readonly cap: number;
  readonly mask: number;

  constructor(sab: SharedArrayBuffer) {
    this.ctrl = new Int32Array(sab, 0, CONTROL_BYTES / 4);
    this.cap = sab.byteLength - CONTROL_BYTES;
    if (this.cap <= 0 || (this.cap & (this.cap - 1)) !== 0) throw new RangeError("channel buffer: ring size must be a power of two");
    this.mask = this.cap - 1;
    this.bytes = new Uint8Array(sab, CONTROL_BYTES, this.cap);
    this.i32 = new Int32Array(sab, CONTROL_BYTES, this.cap >> 2);
    this.f32 = new Float32Array(sab, CONTROL_BYTES, this.cap >> 2);
  }

  write(pos: number, src: Uint8Array): void {
    const at = pos & this.mask;
    const first = Math.min(src.length, this.cap - at);
    this.bytes.set(first === src.length ? src : src.subarray(0, first), at);
    if (first < src.length) this.bytes.set(src.subarray(first), 0);
  }

  /** Writes floats (pos a multiple of 4). */
  writeF32(pos: number, src: Float32Array): void {
    const at = (pos & this.mask) >> 2;
    const words = this.cap >> 2;
    const first = Math.min(src.length, words - at);
    this.f32.set(first === src.length ? src : src.subarray(0, first), at);
    if (first < src.length) this.f32.set(src.subarray(first), 0);
  }

  read(pos: number, dst: Uint8Array): void {
    const at = pos & this.mask;
    const first = Math.min(dst.length, this.cap - at);
    dst.set(this.bytes.subarray(at, at + first));
    if (first < dst.length) dst.set(this.bytes.subarray(0, dst.length - first), first);
  }

  word(pos: number): number {
    return this.i32[(pos & this.mask) >> 2];
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

/** Spins up to `us` microseconds for ctrl[index] to differ from `seen`. */
function spinChange(ctrl: Int32Array, index: number, seen: number, us: number): boolean {
  if (us <= 0) return Atomics.load(ctrl, index) !== seen;
  const end = performance.now() + us / 1000;
  for (;;) {
    for (let i = 0; i < 64; i++) if (Atomics.load(ctrl, index) !== seen) return true;
    if (performance.now() >= end) return false;
  }
}

/**
 * Waits (without blocking the thread) until ctrl[index] differs from `seen`, or at most
 * min(ms, one slice): the caller re-checks its condition and deadline and waits again.
 * `waiters` is the header count the notifier checks (HEAD_WAITERS or TAIL_WAITERS).
 */
async function waitChange(ctrl: Int32Array, index: number, waiters: number, seen: number, ms: number, spinUs: number): Promise<void> {
  if (spinChange(ctrl, index, seen, spinUs)) return;
  const slice = Math.max(0, Math.min(ms, WAIT_SLICE_MS));
  Atomics.add(ctrl, waiters, 1);
  let alive: ReturnType<typeof setTimeout> | undefined;
  try {
    // Registered before this load: a store after it sees the count and notifies.
    if (Atomics.load(ctrl, index) !== seen) return;
    const r = waitAsync(ctrl, index, seen, slice);
    if (!r.async) return;
    // A pending waitAsync does not keep Node's event loop alive: without this timer a
    // thread with nothing else to do would exit in the middle of a receive.
    alive = setTimeout(() => undefined, slice + 1000);
    await r.value;
  } finally {
    Atomics.sub(ctrl, waiters, 1);
    if (alive !== undefined) clearTimeout(alive);
  }
}

/**
 * The blocking form of waitChange (Atomics.wait: worker threads only): the thread sleeps
 * in the kernel and wakes in a few microseconds, where a waitAsync wake-up costs a promise
 * resolution on the event loop (~30 µs of CPU). Bounded by the same slice.
 */
function waitChangeBlocking(ctrl: Int32Array, index: number, waiters: number, seen: number, ms: number, spinUs: number): void {
  if (spinChange(ctrl, index, seen, spinUs)) return;
  const slice = Math.max(0, Math.min(ms, WAIT_SLICE_MS));
  Atomics.add(ctrl, waiters, 1);
  try {
    Atomics.wait(ctrl, index, seen, slice);
  } finally {
    Atomics.sub(ctrl, waiters, 1);
  }
}

const pauseCell = new Int32Array(new SharedArrayBuffer(4));

/** Sleeps `ms`: in Atomics.wait if the thread may block, else on a timer. */
async function pause(ms: number, block: boolean): Promise<void> {
  if (block) Atomics.wait(pauseCell, 0, 0, ms);
  else await new Promise((r) => setTimeout(r, ms));
}

interface Outgoing {
  tag: Uint8Array;
  /** The message, or (once queued) our copy of its unwritten rest (a view of `owned`). */
  data: Float32Array;
  /** The pooled buffer holding the copy, returned to the pool when written. */
  owned?: Float32Array<ArrayBuffer>;
  /** Index in the whole message of data[0], and the whole message's length. */
  base: number;
  total: number;
  /** Floats of `data` already written. */
  offset: number;
  /** Every chunk written (an empty message is one record with no payload). */
  done: boolean;
  /** The payload went over the hand-off port: only the record is written (`data` is empty); its offset field. */
  onPort?: typeof ON_PORT | typeof ON_PORT_SHARED;
}

export class ShmSender {
  private readonly ring: Ring;
  private readonly queue: Outgoing[] = [];
  private queueHead = 0;
  private flushing = false;
  private readonly maxChunk: number;
  /** Buffers of written queued messages, reused for the next ones (bounded in bytes). */
  private readonly pool: FloatPool;
  private readonly handoff?: HandoffOut;
  private readonly handoffBytes: number;
  /** Bytes sent (payload only), for the bandwidth benchmark. */
  sentBytes = 0;

  /**
   * `onStall` is called when queued data could not be written for `timeoutMs` (the
   * receiver stopped reading): the device reports it as a timeout.
   */
  constructor(
    sab: SharedArrayBuffer,
    private readonly timeoutMs: number,
    private readonly onStall: (e: ChannelTimeout) => void,
    private readonly label = "channel",
    private readonly spinUs = DEFAULT_SPIN_US,
    chunkBytes = DEFAULT_CHUNK_BYTES,
    handoff?: HandoffOptions,
  ) {
    this.ring = new Ring(sab);
    // Chunks of at most half the ring: the receiver copies one out while the sender writes the next.
    this.maxChunk = Math.max(1, Math.floor(Math.min(chunkBytes, this.ring.cap / 2) / 4));
    const poolLimit = Math.max(32 << 20, 4 * this.ring.cap);
    this.pool = new FloatPool(poolLimit);
    this.handoff = handoff ? new HandoffOut(handoff.port, poolLimit) : undefined;
    this.handoffBytes = handoff ? handoff.minBytes : Infinity;
  }

  /** Messages (or their rests) waiting for ring space. */
  pending(): number {
    return this.queue.length - this.queueHead;
  }

  /** Sends `data` under `tag`: writes what fits now, queues the rest; never blocks. */
  send(tag: string, data: Float32Array): void {
    if (this.handoff && usesHandoff(data.byteLength, this.handoffBytes)) {
      // The payload is on the port before its record can be published (here or by the flusher).
      this.handoff.post(data);
      this.sentBytes += data.byteLength;
      this.sendRecord(tag, data.length, ON_PORT);
      return;
    }
    const m: Outgoing = { tag: encoder.encode(tag), data, base: 0, total: data.length, offset: 0, done: false };
    if (this.pending() === 0) {
      this.writeSome(m);
      if (m.done) return;
    }
    // Keep our own copy of the unwritten rest: the caller may reuse its buffer at once.
    const rest = data.length - m.offset;
    const owned = this.pool.acquire(rest);
    const copy = owned.length === rest ? owned : owned.subarray(0, rest);
    copy.set(m.offset === 0 ? data : data.subarray(m.offset));
    m.data = copy;
    m.owned = owned;
    m.base = m.offset;
    m.offset = 0;
    this.queue.push(m);
    this.startFlush();
  }

  /**
   * Sends `view` (in shared memory) as a view: the receiver sees these very bytes, no copy.
   * The caller's protocol must say when each side may touch them (shm-allreduce.ts).
   */
  share(tag: string, view: Float32Array): void {
    if (!this.handoff) throw new Error(`${this.label}: sharing ${tag} needs a hand-off port`);
    this.handoff.share(view);
    this.sendRecord(tag, view.length, ON_PORT_SHARED);
  }

  /** Writes (or queues, in order) a record whose payload is already on the port. */
  private sendRecord(tag: string, total: number, flag: typeof ON_PORT | typeof ON_PORT_SHARED): void {
    const r: Outgoing = { tag: encoder.encode(tag), data: NO_FLOATS, base: 0, total, offset: 0, done: false, onPort: flag };
    if (this.pending() === 0) {
      this.writeSome(r);
      if (r.done) return;
    }
    this.queue.push(r);
    this.startFlush();
  }

  /** Writes as many chunks of `m` as fit now; advances m.offset, sets m.done. */
  private writeSome(m: Outgoing): void {
    const ring = this.ring;
    const ctrl = ring.ctrl;
    const tagLen = pad4(m.tag.length);
    const maxChunk = this.maxChunk;
    const i32 = ring.i32;
    const mask = ring.mask;
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
      let pos = head;
      i32[(pos & mask) >> 2] = m.tag.length;
      i32[((pos + 4) & mask) >> 2] = m.total;
      i32[((pos + 8) & mask) >> 2] = m.onPort ?? m.base + m.offset;
      i32[((pos + 12) & mask) >> 2] = chunk;
      pos += RECORD_HEADER;
      ring.write(pos, m.tag);
      pos += tagLen;
      if (chunk > 0) {
        ring.writeF32(pos, chunk === m.data.length ? m.data : m.data.subarray(m.offset, m.offset + chunk));
        pos += chunk * 4;
      }
      // Sequentially consistent store: the record's bytes are visible before HEAD moves.
      Atomics.store(ctrl, HEAD, pos | 0);
      if (Atomics.load(ctrl, HEAD_WAITERS) !== 0) Atomics.notify(ctrl, HEAD);
      this.sentBytes += chunk * 4;
      m.offset += chunk;
      if (m.offset === m.data.length) m.done = true;
    }
  }

  private startFlush(): void {
    if (this.flushing) return;
    this.flushing = true;
    void this.flush();
  }

  private async flush(): Promise<void> {
    const ctrl = this.ring.ctrl;
    let lastProgress = Date.now();
    // The flag is cleared by this function's own `finally`, in the same turn as the loop
    // ends, not by a reaction a microtask later: a send that ran in between would queue
    // data that no flusher writes.
    try {
      while (this.pending()) {
        const m = this.queue[this.queueHead];
        // Read TAIL before trying: if the receiver frees space after our attempt, the wait
        // below sees a changed value and returns at once (no lost wake-up).
        const seenTail = Atomics.load(ctrl, TAIL);
        const before = m.offset;
        this.writeSome(m);
        if (m.done) {
          this.queue[this.queueHead++] = undefined as unknown as Outgoing;
          if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
            this.queue.splice(0, this.queueHead);
            this.queueHead = 0;
          }
          if (m.owned) this.pool.release(m.owned);
          lastProgress = Date.now();
          continue;
        }
        if (m.offset !== before) lastProgress = Date.now();
        const left = this.timeoutMs - (Date.now() - lastProgress);
        if (left <= 0) {
          this.onStall(new ChannelTimeout(`${this.label}: the receiver did not take queued data`, this.timeoutMs));
          return;
        }
        await waitChange(ctrl, TAIL, TAIL_WAITERS, seenTail, left, this.spinUs);
      }
      this.queue.length = 0;
      this.queueHead = 0;
    } finally {
      this.flushing = false;
    }
  }
}

/**
 * Where a received message goes, chunk by chunk: `begin` gets its length (it may throw if
 * that is wrong), `chunk` gets `count` floats from `src[srcIndex..]` for message offset
 * `offset..`. `src` may be the ring itself: use the values at once, keep no reference.
 *
 * `adopt`, if present, is offered a whole message (after `begin`) that arrived in its own
 * buffer (a hand-off payload, or a message stashed earlier) in place of `chunk`: the sink
 * takes `data` as its own storage and returns the array it replaced (or undefined), which
 * the channel gives back to the sender's pool. So a sink may return only an array that
 * nothing else references: it is transferred to the other thread and detached here.
 *
 * `share` takes a message sent with ShmSender.share: a view of the SENDER's memory. Only
 * sinks that know the sender's protocol have it; any other sink meeting one fails.
 */
export interface ReceiveSink {
  begin(total: number): void;
  chunk(src: Float32Array, srcIndex: number, offset: number, count: number): void;
  adopt?(data: Float32Array): Float32Array | undefined;
  share?(view: Float32Array): void;
}

interface Partial {
  data: Float32Array;
  got: number;
}

interface Direct {
  sink: ReceiveSink;
  got: number;
  total: number;
  done: boolean;
}

/** A sink that copies the message into a fresh array, or adopts a whole one. */
class ArraySink implements ReceiveSink {
  data: Float32Array = NO_FLOATS;
  begin(total: number): void {
    this.data = new Float32Array(total);
  }
  chunk(src: Float32Array, srcIndex: number, offset: number, count: number): void {
    this.data.set(src.subarray(srcIndex, srcIndex + count), offset);
  }
  adopt(data: Float32Array): undefined {
    this.data = data;
    return undefined;
  }
}

export class ShmReceiver {
  private readonly ring: Ring;
  /** Complete messages not yet asked for, by tag. */
  private readonly mailbox = new Map<string, Float32Array>();
  private readonly partial = new Map<string, Partial>();
  /** Receives in progress that take their chunks straight from the ring, by tag. */
  private readonly direct = new Map<string, Direct>();
  private readonly tagBuf = new Uint8Array(1024);
  private readonly handoff?: HandoffIn;
  /** The tag of a hand-off record whose payload was not on the port yet (pump stopped there). */
  private awaitingPayload: string | undefined;

  /**
   * `canBlock`, when given, is asked before each sleep of a receive: true lets it sleep in
   * Atomics.wait (blocking the thread; workers only), which the caller allows only when
   * nothing else on this thread needs to run meanwhile (no queued sends to flush).
   */
  constructor(
    sab: SharedArrayBuffer,
    private readonly label = "channel",
    private readonly spinUs = DEFAULT_SPIN_US,
    private readonly canBlock?: () => boolean,
    handoff?: HandoffOptions,
  ) {
    this.ring = new Ring(sab);
    if (handoff) this.handoff = new HandoffIn(handoff.port, handoff.minBytes, label);
  }

  /** A whole message in its own array, `m` (ours to give away, or a shared view), into `sink`. */
  private deliverWhole(sink: ReceiveSink, m: Float32Array, tag: string): void {
    if (types.isSharedArrayBuffer(m.buffer)) {
      if (!sink.share) throw new Error(`${this.label}: message ${tag} is a view of the sender's memory, which only an all-reduce takes`);
      sink.begin(m.length);
      sink.share(m);
      return;
    }
    sink.begin(m.length);
    if (sink.adopt) {
      const old = sink.adopt(m);
      if (old) this.handoff?.giveBack(old);
      return;
    }
    if (m.length > 0) sink.chunk(m, 0, 0, m.length);
    this.handoff?.giveBack(m);
  }

  /**
   * Consumes records (releasing their space at once) until `until` (a direct receive) is
   * complete, or, without one, every complete record; records of a direct receive go to
   * its sink, the others to the mailbox. Returns false if it stopped at a hand-off record
   * whose payload is not on the port yet (the record stays in the ring).
   */
  private pump(until?: Direct): boolean {
    const ring = this.ring;
    const ctrl = ring.ctrl;
    let tail = Atomics.load(ctrl, TAIL);
    const head = Atomics.load(ctrl, HEAD);
    while (tail !== head && !(until && until.done)) {
      const tagBytes = ring.word(tail);
      const total = ring.word(tail + 4);
      const offset = ring.word(tail + 8);
      const chunk = ring.word(tail + 12);
      let pos = tail + RECORD_HEADER;
      const tb = tagBytes <= this.tagBuf.length ? this.tagBuf.subarray(0, tagBytes) : new Uint8Array(tagBytes);
      ring.read(pos, tb);
      pos += pad4(tagBytes);
      const tag = decoder.decode(tb);
      if (offset === ON_PORT || offset === ON_PORT_SHARED) {
        if (!this.handoff) throw new Error(`${this.label}: message ${tag} was handed off, but this receiver has no hand-off port`);
        const payload = offset === ON_PORT ? this.handoff.take(total, tag) : this.handoff.takeShared(total, tag);
        if (!payload) {
          this.awaitingPayload = tag;
          return false;
        }
        this.awaitingPayload = undefined;
        // The payload is ours: release the record before the sink runs.
        tail = pos | 0;
        Atomics.store(ctrl, TAIL, tail);
        if (Atomics.load(ctrl, TAIL_WAITERS) !== 0) Atomics.notify(ctrl, TAIL);
        const dp = this.partial.has(tag) ? undefined : this.direct.get(tag);
        if (!dp) {
          if (this.mailbox.has(tag) || this.partial.has(tag)) throw new Error(`${this.label}: a second message tagged ${tag}`);
          this.mailbox.set(tag, payload);
          continue;
        }
        dp.done = true;
        this.direct.delete(tag);
        this.deliverWhole(dp.sink, payload, tag);
        if (dp !== until) Atomics.notify(ctrl, HEAD);
        continue;
      }
      const d = this.partial.has(tag) ? undefined : this.direct.get(tag);
      if (d) {
        if (d.total < 0) {
          d.total = total;
          d.sink.begin(total);
        }
        if (chunk > 0) this.deliver(d.sink, pos, offset, chunk);
        d.got += chunk;
        if (d.got >= d.total) {
          d.done = true;
          this.direct.delete(tag);
        }
      } else {
        let p = this.partial.get(tag);
        if (!p) {
          if (this.mailbox.has(tag)) throw new Error(`${this.label}: a second message tagged ${tag}`);
          p = { data: new Float32Array(total), got: 0 };
          this.partial.set(tag, p);
        }
        if (chunk > 0) this.deliver(p.data, pos, offset, chunk);
        p.got += chunk;
        if (p.got >= total) {
          this.partial.delete(tag);
          this.mailbox.set(tag, p.data);
        }
      }
      pos += chunk * 4;
      tail = pos | 0;
      // Another receive in progress on this channel got its message: wake its wait.
      if (d && d.done && d !== until) Atomics.notify(ctrl, HEAD);
      // Release each record at once so that a sender waiting for space can go on.
      Atomics.store(ctrl, TAIL, tail);
      if (Atomics.load(ctrl, TAIL_WAITERS) !== 0) Atomics.notify(ctrl, TAIL);
    }
    return true;
  }

  /** Payload at ring position `pos` (possibly wrapping) into a sink or an array. */
  private deliver(to: ReceiveSink | Float32Array, pos: number, offset: number, count: number): void {
    const ring = this.ring;
    const at = (pos & ring.mask) >> 2;
    const first = Math.min(count, (ring.cap >> 2) - at);
    if (to instanceof Float32Array) {
      to.set(ring.f32.subarray(at, at + first), offset);
      if (first < count) to.set(ring.f32.subarray(0, count - first), offset + first);
      return;
    }
    to.chunk(ring.f32, at, offset, first);
    if (first < count) to.chunk(ring.f32, 0, offset + first, count - first);
  }

  /** Copies every complete record out of the ring (releasing its space) into the mailbox. */
  drain(): void {
    this.pump();
  }

  private fromMailbox(tag: string, sink: ReceiveSink): boolean {
    const m = this.mailbox.get(tag);
    if (!m) return false;
    this.mailbox.delete(tag);
    // Stashed arrays are the receiver's own (copied out of the ring, or handed off).
    this.deliverWhole(sink, m, tag);
    return true;
  }

  /**
   * Receives message `tag` into `sink`, straight from the ring where it can; rejects with
   * ChannelTimeout after `timeoutMs` without it.
   */
  async receiveInto(tag: string, timeoutMs: number, sink: ReceiveSink): Promise<void> {
    if (this.fromMailbox(tag, sink)) return;
    if (this.direct.has(tag)) throw new Error(`${this.label}: two receives of message ${tag}`);
    const d: Direct = { sink, got: 0, total: -1, done: false };
    // A message whose first chunks were stashed (a receive of another tag met them) completes there.
    if (!this.partial.has(tag)) this.direct.set(tag, d);
    const deadline = Date.now() + timeoutMs;
    const ctrl = this.ring.ctrl;
    try {
      for (;;) {
        const seen = Atomics.load(ctrl, HEAD);
        const flowing = this.pump(d);
        if (d.done) return;
        if (this.fromMailbox(tag, sink)) return;
        const left = deadline - Date.now();
        if (left <= 0) {
          const why = flowing ? "" : ` (the payload of message ${this.awaitingPayload} never reached the hand-off port)`;
          throw new ChannelTimeout(`${this.label}: waiting for message ${tag}${why}`, timeoutMs);
        }
        if (!flowing) {
          // HEAD need not move again: poll the port instead, within the deadline.
          await pause(Math.min(PORT_POLL_MS, left), this.canBlock?.() === true);
          continue;
        }
        if (this.canBlock?.()) waitChangeBlocking(ctrl, HEAD, HEAD_WAITERS, seen, left, this.spinUs);
        else await waitChange(ctrl, HEAD, HEAD_WAITERS, seen, left, this.spinUs);
      }
    } finally {
      if (this.direct.get(tag) === d) this.direct.delete(tag);
    }
  }

  /** Resolves with message `tag`; rejects with ChannelTimeout after `timeoutMs` without it. */
  async receive(tag: string, timeoutMs: number): Promise<Float32Array> {
    const s = new ArraySink();
    await this.receiveInto(tag, timeoutMs, s);
    return s.data;
  }

  /** Messages (complete or partial) that arrived and were not taken. */
  unclaimed(): string[] {
    this.drain();
    const stuck = this.awaitingPayload === undefined ? [] : [`${this.awaitingPayload} (payload not on the hand-off port)`];
    return [...this.mailbox.keys(), ...this.partial.keys(), ...stuck];
  }
}
