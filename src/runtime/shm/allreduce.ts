// The all-reduce on shared memory, for large buffers (members are threads of one process).
//
// The ring all-reduce (reduce-scatter + all-gather, shm-comm.ts) moves every byte through
// copies: on 2 members each one copies its peer's half out, adds the peer's half of its
// own slice, copies its summed slice out and the peer's summed slice in. For a 4 MiB
// buffer that is ~0.8 ms of memory work per member against ~0.3 ms for one memcpy of the
// buffer, so it cannot reach half a memcpy's speed. Here the members' buffers themselves
// are in shared memory: each member sends the others a VIEW of its buffer (over the
// pair's hand-off port, no copy), sums its own slice of all the buffers in group order
// and writes the sum into all of them. Per element of its slice a member reads n values
// and writes n, nothing else.
//
// Protocol for member k of the group (n members), tag t:
//  1. send every other member a view of my buffer (`t/sh`);
//  2. receive theirs;
//  3. sum slice k over all buffers, in group order, into all buffers (in the arena:
//     shm-arena.ts, where the SIMD module works on them in place);
//  4. send `t/done` to every other member, then receive theirs.
// Between 1 and the last `done` I touch only slice k of any buffer, and the others touch
// only their own slices of mine, so no element is written by two threads or read while
// another writes it. Ordering: a member's writes into its buffer (kernels, earlier steps)
// come before its share record is published, and everyone's writes of step 3 before
// their `done` records; records are published with a sequentially consistent
// Atomics.store and read with Atomics.load (shm-channel.ts), which makes those writes
// visible to the reader. Sums are bit-identical to the ring algorithm's and the
// in-process runtime's: the same float32 additions in the same order.
//
// The caller's buffer must be in shared memory: a plain one is copied into the arena (or,
// when there is no room, a SharedArrayBuffer of its own) once, and the caller uses that
// copy from then on (the executor swaps its buffer), so later all-reduces of the same
// buffer copy nothing.

import { types } from "node:util";
import type { ReceiveSink } from "./channel.js";
import { sliceOf } from "./slices.js";

/** What the algorithm needs from the channels and memory (ShmComm provides it). */
export interface SharedLinks {
  share(to: number, tag: string, view: Float32Array): void;
  send(to: number, tag: string, data: Float32Array): void;
  recvInto(from: number, tag: string, sink: ReceiveSink): Promise<void>;
  /** Sums [lo, hi) of all views into all of them in order (Arena.sumInto, or f32-add.ts sumInto outside an arena). */
  sumInto(views: readonly Float32Array[], lo: number, hi: number): void;
}

export function inSharedMemory(a: Float32Array): boolean {
  return types.isSharedArrayBuffer(a.buffer);
}

/** A copy of `a` in a new SharedArrayBuffer of its own. */
export function sharedCopy(a: Float32Array): Float32Array {
  const s = new Float32Array(new SharedArrayBuffer(a.byteLength));
  s.set(a);
  return s;
}

const EMPTY = new Float32Array(0);

/** Sums `buf` (in shared memory) over `group` (sorted, `me` among them) in place. */
export async function allreduceOnSharedMemory(links: SharedLinks, me: number, group: readonly number[], tag: string, buf: Float32Array): Promise<void> {
  if (!inSharedMemory(buf)) throw new TypeError(`allreduce ${tag}: the buffer is not in shared memory`);
  const k = group.indexOf(me);
  const n = group.length;
  for (let j = 0; j < n; j++) if (j !== k) links.share(group[j], `${tag}/sh`, buf);
  const views: Float32Array[] = new Array(n);
  views[k] = buf;
  for (let j = 0; j < n; j++) {
    if (j === k) continue;
    const from = group[j];
    await links.recvInto(from, `${tag}/sh`, {
      begin(total) {
        if (total !== buf.length) throw new Error(`allreduce ${tag}: device ${from} shares ${total} elements, expected ${buf.length}`);
      },
      chunk() {
        throw new Error(`allreduce ${tag}: device ${from} sent its buffer as data, not as a shared view`);
      },
      share(view) {
        views[j] = view;
      },
    });
  }
  const [lo, hi] = sliceOf(buf.length, n, k);
  links.sumInto(views, lo, hi);
  for (let j = 0; j < n; j++) if (j !== k) links.send(group[j], `${tag}/done`, EMPTY);
  for (let j = 0; j < n; j++) {
    if (j === k) continue;
    const from = group[j];
    await links.recvInto(from, `${tag}/done`, {
      begin(total) {
        if (total !== 0) throw new Error(`allreduce ${tag}: device ${from} ended with ${total} elements, expected none`);
      },
      chunk() {},
    });
  }
}
