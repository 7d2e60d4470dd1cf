// The arena: one shared WebAssembly memory holding the all-reduced buffers of every device
// of a run, so that the SIMD module (wasm-add-module.ts), instantiated on it in each
// thread, reads and writes every device's buffer with plain wasm loads and stores.
//
// Why: the shared-memory all-reduce (shm-allreduce.ts) has each member sum its slice of
// all members' buffers into all of them. From JS that takes Float32Array.set copies into
// and out of the module's memory, and V8 copies shared memory word by word (~14 GB/s at
// any size, a third of a cache-resident memcpy): four such copies per element for 2
// members cost more than the ring. In the arena the module works on the buffers in place:
// per element of its slice a member reads n values and writes n, at memory speed.
//
// The parent sizes the arena from the plan (run-workers.ts) and gives each device a byte
// range: a scratch (the running sum of a chunk, and a slot for an operand that is not in
// the arena) and room for its all-reduced buffers, which ShmComm moves in on their first
// all-reduce (bump allocation: a buffer moves once; the executor then keeps the arena
// array). A view received from another thread is recognised as the arena by the random
// identity in the arena's first 16 bytes (a different SharedArrayBuffer object over the
// same memory). Anything not in the arena (the arena is full or absent) still works,
// through the scratch, at the speed of JS copies.

import { randomFillSync } from "node:crypto";
import { types } from "node:util";
import { instantiateAdd, newMemory, type AddExports, type WasmMemory } from "../wasm/api.js";

/** One device's part of a run's arena. */
export interface ArenaSpec {
  /** The shared memory (fixed size), the same for every device. */
  memory: WasmMemory;
  /** This device's byte range [start, end): its scratch, then its buffers. */
  start: number;
  end: number;
}

const PAGE = 65536;
/** The largest arena: the 4 GiB a 32-bit wasm memory addresses, less a page. */
const MAX_PAGES = 65535;
const HEADER_BYTES = 16;
/** Floats per chunk: the running sum and an operand slot (2 × 32 KiB) stay in the L1/L2 cache. */
const CHUNK = 8192;
export const ARENA_SCRATCH_BYTES = 2 * CHUNK * 4;

const align16 = (n: number) => Math.ceil(n / 16) * 16;

/**
 * Arena parts for `devices`, each with room for `bytes(d)` bytes of buffers (plus its
 * scratch); undefined when that exceeds 4 GiB or shared wasm memory is unavailable.
 */
export function createArena(devices: readonly number[], bytes: (device: number) => number): Map<number, ArenaSpec> | undefined {
  let total = HEADER_BYTES;
  const sizes = devices.map((d) => {
    const b = ARENA_SCRATCH_BYTES + align16(bytes(d));
    total += b;
    return b;
  });
  const pages = Math.ceil(total / PAGE);
  if (pages > MAX_PAGES) return undefined;
  const memory = newMemory(pages, true);
  if (!memory || !types.isSharedArrayBuffer(memory.buffer)) return undefined;
  randomFillSync(new Uint32Array(memory.buffer, 0, HEADER_BYTES / 4));
  const out = new Map<number, ArenaSpec>();
  let at = HEADER_BYTES;
  devices.forEach((d, i) => {
    out.set(d, { memory, start: at, end: at + sizes[i] });
    at += sizes[i];
  });
  return out;
}

/** This thread's handle on its device's part of the arena. */
export class Arena {
  private readonly buffer: SharedArrayBuffer;
  private readonly f32: Float32Array;
  private readonly id: Uint32Array;
  private next: number;
  private readonly end: number;
  /** The running sum's slot and the operand slot (byte offsets). */
  private readonly acc: number;
  private readonly slot: number;

  private constructor(
    spec: ArenaSpec,
    private readonly wasm: AddExports,
  ) {
    // The memory never grows: this object stays its buffer, and views of it stay attached.
    this.buffer = spec.memory.buffer as SharedArrayBuffer;
    this.f32 = new Float32Array(this.buffer);
    this.id = new Uint32Array(this.buffer, 0, HEADER_BYTES / 4);
    this.acc = spec.start;
    this.slot = spec.start + CHUNK * 4;
    this.next = spec.start + ARENA_SCRATCH_BYTES;
    this.end = spec.end;
  }

  /** The arena part `spec`, or undefined if it is malformed or this thread lacks WebAssembly SIMD / shared memory. */
  static open(spec: ArenaSpec): Arena | undefined {
    const buf = spec.memory.buffer;
    if (!types.isSharedArrayBuffer(buf) || spec.start < HEADER_BYTES || spec.start % 16 !== 0 || spec.end > buf.byteLength || spec.end - spec.start < ARENA_SCRATCH_BYTES) return undefined;
    const wasm = instantiateAdd("shared", spec.memory);
    return wasm ? new Arena(spec, wasm) : undefined;
  }

  /** A zeroed array of `floats` floats in this device's part, or undefined when it is full. */
  alloc(floats: number): Float32Array | undefined {
    const bytes = align16(floats * 4);
    if (this.next + bytes > this.end) return undefined;
    const a = new Float32Array(this.buffer, this.next, floats);
    this.next += bytes;
    return a;
  }

  /** Whether `a` lies in the arena (this thread's view of it, or a view from another thread). */
  holds(a: Float32Array): boolean {
    const b = a.buffer;
    if (b === this.buffer) return true;
    if (!types.isSharedArrayBuffer(b) || b.byteLength !== this.buffer.byteLength) return false;
    const other = new Uint32Array(b, 0, HEADER_BYTES / 4);
    for (let i = 0; i < other.length; i++) if (other[i] !== this.id[i]) return false;
    return true;
  }

  /**
   * For lo ≤ i < hi: views[0][i] + views[1][i] + ... left to right in float32 (the running
   * sum is the left operand), written into every view: f32-add.ts sumInto's result.
   * Views in the arena are read and written in place; others are copied through the scratch.
   */
  sumInto(views: readonly Float32Array[], lo: number, hi: number): void {
    const n = views.length;
    const count = hi - lo;
    // One view is its own sum (and the write-back below assumes at least one add).
    if (n < 2 || count <= 0) return;
    const offs = views.map((v) => (this.holds(v) ? v.byteOffset : -1));
    const { add, copy } = this.wasm;
    const f32 = this.f32;
    const acc = this.acc;
    const vector = count & ~3;
    for (let k = 0; k < vector; k += CHUNK) {
      const c = Math.min(CHUNK, vector - k);
      const bytes = c * 4;
      const first = lo + k;
      const at = (m: number, into: number): number => {
        if (offs[m] >= 0) return offs[m] + first * 4;
        f32.set(views[m].subarray(first, first + c), into >> 2);
        return into;
      };
      let left = at(0, acc);
      for (let m = 1; m < n; m++) {
        add(acc, left, at(m, this.slot), bytes);
        left = acc;
      }
      for (let m = 0; m < n; m++) {
        if (offs[m] >= 0) copy(offs[m] + first * 4, acc, bytes);
        else views[m].set(f32.subarray(acc >> 2, (acc >> 2) + c), first);
      }
    }
    // The last 0–3 elements (whole vectors only above: never touch past `hi`).
    for (let i = lo + vector; i < hi; i++) {
      let s = views[0][i];
      for (let m = 1; m < n; m++) s = Math.fround(s + views[m][i]);
      for (let m = 0; m < n; m++) views[m][i] = s;
    }
  }
}
