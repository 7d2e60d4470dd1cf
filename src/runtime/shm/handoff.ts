// Single-copy hand-off of large messages between two threads (used by shm-channel.ts).
//
// Through the ring a message is copied twice, in by the sender and out by the receiver;
// for a large message the two copies by two threads cannot beat half a memcpy's speed.
// Instead the sender copies it once into a plain (non-shared) ArrayBuffer from its pool
// and TRANSFERS that buffer (ownership moves, no bytes are copied) over a MessagePort
// dedicated to the ordered pair; only a small record goes through the ring, which keeps
// the pair's order and the tags. The receiver takes the buffer synchronously with
// receiveMessageOnPort (postMessage enqueues into the sibling port's queue before it
// returns, and the sender posts before it publishes the record, so the buffer is there
// once the record is visible) and either adopts it as its destination or copies it out;
// then it transfers a buffer back (the payload, or the array the destination replaced),
// which refills the sender's pool: in steady state nothing is allocated. No 'message'
// listener is ever attached to these ports: that would start asynchronous delivery and
// steal the payloads from receiveMessageOnPort.
//
// The port also carries SHARED views (`share`): a SharedArrayBuffer and an offset, so the
// receiver sees the sender's own memory (no copy at all). Only the shared-memory
// all-reduce (shm-allreduce.ts) sends and takes them, under its own protocol of who may
// touch what, and when.

import { types } from "node:util";
import { receiveMessageOnPort, type MessagePort } from "node:worker_threads";
import { FloatPool } from "./f32-pool.js";

/** The sender's end. */
export class HandoffOut {
  private readonly pool: FloatPool;

  constructor(private readonly port: MessagePort, poolLimitBytes: number) {
    this.pool = new FloatPool(poolLimitBytes);
  }

  /** Takes the buffers the receiver gave back into the pool. */
  private reclaim(): void {
    for (;;) {
      const m = receiveMessageOnPort(this.port);
      if (!m) return;
      if (types.isArrayBuffer(m.message) && m.message.byteLength % 4 === 0) this.pool.release(new Float32Array(m.message));
    }
  }

  /** Posts a copy of `data` (the caller may reuse `data` at once). */
  post(data: Float32Array): void {
    this.reclaim();
    const buf = this.pool.acquire(data.length);
    buf.set(data);
    this.port.postMessage(buf.buffer, [buf.buffer]);
  }

  /** Posts a view of `view`'s shared memory (the receiver sees the same bytes). */
  share(view: Float32Array): void {
    if (!types.isSharedArrayBuffer(view.buffer)) throw new TypeError("share: the view is not in shared memory");
    this.port.postMessage({ sab: view.buffer, byteOffset: view.byteOffset } satisfies SharedView);
  }

  /** Bytes of returned buffers held for reuse (tests). */
  pooledBytes(): number {
    this.reclaim();
    return this.pool.heldBytes();
  }
}

/** A shared view as it travels on the port. */
interface SharedView {
  sab: SharedArrayBuffer;
  byteOffset: number;
}

/** The receiver's end. */
export class HandoffIn {
  constructor(
    private readonly port: MessagePort,
    /** Buffers smaller than the sender's threshold would never be reused: they are not given back. */
    private readonly minBytes: number,
    private readonly label: string,
  ) {}

  /**
   * The next payload, as `floats` floats, if it has arrived; undefined if not (yet). A
   * payload that is not an ArrayBuffer of at least that size is a protocol error.
   */
  take(floats: number, tag: string): Float32Array | undefined {
    const m = receiveMessageOnPort(this.port);
    if (!m) return undefined;
    const buf: unknown = m.message;
    if (!types.isArrayBuffer(buf) || buf.byteLength < floats * 4) {
      throw new Error(`${this.label}: message ${tag}: the hand-off port carried ${describe(buf)}, expected ${floats * 4} bytes`);
    }
    return new Float32Array(buf, 0, floats);
  }

  /** The next shared view (`floats` floats of the sender's memory), if it has arrived. */
  takeShared(floats: number, tag: string): Float32Array | undefined {
    const m = receiveMessageOnPort(this.port);
    if (!m) return undefined;
    const v = m.message as Partial<SharedView> | null;
    const ok = typeof v === "object" && v !== null && types.isSharedArrayBuffer(v.sab) && Number.isInteger(v.byteOffset) && v.byteOffset! >= 0 && v.byteOffset! % 4 === 0 && v.byteOffset! + floats * 4 <= v.sab.byteLength;
    if (!ok) throw new Error(`${this.label}: message ${tag}: the hand-off port carried ${describe(m.message)}, expected a shared view of ${floats * 4} bytes`);
    return new Float32Array(v.sab!, v.byteOffset!, floats);
  }

  /**
   * Transfers the buffer of `a` back to the sender's pool. `a` must be an array that
   * nothing else uses any more (it and every view of its buffer become detached here).
   */
  giveBack(a: Float32Array): void {
    const buf = a.buffer;
    // Shared memory cannot be transferred (and is not ours to give).
    if (!types.isArrayBuffer(buf) || buf.byteLength < this.minBytes || buf.byteLength === 0) return;
    this.port.postMessage(buf, [buf]);
  }
}

function describe(x: unknown): string {
  if (types.isArrayBuffer(x)) return `${x.byteLength} bytes`;
  const v = x as Partial<SharedView> | null;
  if (typeof v === "object" && v !== null && types.isSharedArrayBuffer(v.sab)) return `a shared view at byte ${v.byteOffset} of ${v.sab.byteLength}`;
  return x === null ? "null" : typeof x;
}

/** Whether a payload of `bytes` goes over the port (the threshold is inclusive; empty messages never do). */
export function usesHandoff(bytes: number, minBytes: number): boolean {
  return bytes > 0 && bytes >= minBytes;
}
