// A `Comm` (src/runtime/exec/comm.ts) over shared-memory channels: one ShmSender per peer this
// device sends to, one ShmReceiver per peer it hears from (one ring per ordered pair, see
// shm-channel.ts). Works the same in one thread (tests, benchmarks) and across workers.
//
// All-reduce: a direct reduce-scatter followed by an all-gather on the same channels. The
// buffer is cut into one contiguous slice per member; member k receives slice k from every
// other member, adds the contributions IN GROUP ORDER (x[g0] + x[g1] + ... — exactly the
// order of the single-root all-reduce of comm.ts and of the in-process runtime, so worker
// runs reproduce in-process runs bit for bit), then sends the summed slice to everyone.
// Each member sends and receives 2·(n−1)/n of the buffer, like a ring all-reduce, but in
// one round each way instead of 2·(n−1) (on shared memory every pair is one hop), and
// every element is summed once by one member, so all members get bit-identical results.
// `allreduceInPlace` works on the caller's buffer: contributions are added straight out of
// the rings (or hand-off payloads) into it, with the SIMD adds of f32-add.ts, and no
// allocation; `recvInto` likewise hands a message's chunks to a sink in place of returning
// a fresh array, and a sink may adopt a whole handed-off payload.
//
// `allreduceShared` (what the executor uses) sums buffers of at least
// `sharedAllreduceBytes` on shared memory instead (shm-allreduce.ts): the same slices and
// order, but each member sums its slice of all members' buffers in place, in the run's
// arena (shm-arena.ts), so no byte is copied; smaller buffers take allreduceInPlace.
//
// Each ordered pair also gets a MessageChannel for the single-copy hand-off of messages of
// at least `handoffBytes` (shm-handoff.ts) and for the shared all-reduce's views; its
// ports travel in a Worker's transferList.

import { MessageChannel, type MessagePort } from "node:worker_threads";
import { allreduceViaSendRecv, type Comm } from "../exec/comm.js";
import { ChannelTimeout, DEFAULT_SPIN_US, ShmReceiver, ShmSender, type ReceiveSink } from "./channel.js";
import { addInto, sumInto } from "../wasm/f32-add.js";
import { allreduceOnSharedMemory, inSharedMemory, sharedCopy } from "./allreduce.js";
import { Arena, type ArenaSpec } from "./arena.js";
import { sliceOf } from "./slices.js";

export { sliceOf } from "./slices.js";

export type { ReceiveSink } from "./channel.js";

/** The channel buffers a device uses: `out.get(j)` carries this device → j, `in.get(j)` j → this device. */
export interface DeviceChannels {
  out: Map<number, SharedArrayBuffer>;
  in: Map<number, SharedArrayBuffer>;
  /**
   * The pairs' hand-off ports, by peer: the sending end of this device → j in
   * `outPorts.get(j)`, the receiving end of j → this device in `inPorts.get(j)`. Without
   * them every message goes through the ring.
   */
  outPorts?: Map<number, MessagePort>;
  inPorts?: Map<number, MessagePort>;
}

/** The ports in `ch`: a Worker given `ch` in its workerData must list them in its transferList. */
export function channelPorts(ch: DeviceChannels): MessagePort[] {
  return [...(ch.outPorts?.values() ?? []), ...(ch.inPorts?.values() ?? [])];
}

/**
 * Default hand-off threshold (bytes), measured on the 2-core development host
 * (docs/runtime.md): at 64 KiB the ring's two copies and a transfer's fixed cost (a
 * postMessage of the buffer each way) about break even; from 128 KiB the single copy wins.
 */
export const DEFAULT_HANDOFF_BYTES = 128 << 10;

/** Default threshold of the shared-memory all-reduce (bytes of buffer): below ~16 KiB both algorithms are bound by message latency and the ring's is as fast (docs/runtime.md). */
export const DEFAULT_SHARED_ALLREDUCE_BYTES = 16 << 10;

export interface ShmCommOptions {
  /** Bound on every wait (ms). */
  timeoutMs: number;
  /** Called when a queued send stalls past the timeout (the receiver stopped reading). */
  onStall?: (e: ChannelTimeout) => void;
  /** "direct" (default): reduce-scatter + all-gather; "root": gather at the group's first member (comm.ts). */
  allreduce?: "direct" | "root";
  /** Microseconds a wait spins on the shared counter before sleeping (default 30). */
  spinUs?: number;
  /**
   * Let a receive sleep in the blocking Atomics.wait when this device has no queued sends
   * (worker threads only: the thread's event loop stops meanwhile). Default false.
   */
  blocking?: boolean;
  /** Largest chunk a message is cut into (bytes; at most half the ring). */
  chunkBytes?: number;
  /**
   * Messages of at least this many bytes are handed off over the pair's port (a single
   * copy) when the channels have ports (default DEFAULT_HANDOFF_BYTES; Infinity: never).
   */
  handoffBytes?: number;
  /**
   * `allreduceShared` sums buffers of at least this many bytes on shared memory
   * (shm-allreduce.ts) when the group's pairs have ports (default
   * DEFAULT_SHARED_ALLREDUCE_BYTES; Infinity: never).
   */
  sharedAllreduceBytes?: number;
  /** This device's part of the run's arena (shm-arena.ts), where the shared all-reduce works in place. */
  arena?: ArenaSpec;
}

/** Sinks of the in-place all-reduce: set or add a peer's slice into `data` from `base`. */
class SliceSink implements ReceiveSink {
  data: Float32Array = new Float32Array(0);
  base = 0;
  expect = 0;
  add = false;
  /** Adds as `src + data` (the peer's contribution is the left operand: group order). */
  addLeft = false;
  what = "";
  begin(total: number): void {
    if (total !== this.expect) throw new Error(`${this.what}: ${total} elements, expected ${this.expect}`);
  }
  chunk(src: Float32Array, srcIndex: number, offset: number, count: number): void {
    const o = this.base + offset;
    if (this.addLeft || this.add) addInto(this.data, o, src, srcIndex, count, this.addLeft);
    else this.data.set(src.subarray(srcIndex, srcIndex + count), o);
  }
}


export class ShmComm implements Comm {
  private readonly senders = new Map<number, ShmSender>();
  private readonly receivers = new Map<number, ShmReceiver>();
  /** Peers with hand-off ports both ways (shared views need them). */
  private readonly ported = new Set<number>();
  private readonly sharedBytes: number;
  private readonly arena?: Arena;

  constructor(readonly device: number, channels: DeviceChannels, private readonly options: ShmCommOptions) {
    const stall = options.onStall ?? (() => undefined);
    const spin = options.spinUs ?? DEFAULT_SPIN_US;
    const minBytes = options.handoffBytes ?? DEFAULT_HANDOFF_BYTES;
    if (!(minBytes >= 0)) throw new RangeError(`handoffBytes must be a non-negative number of bytes, got ${minBytes}`);
    this.sharedBytes = options.sharedAllreduceBytes ?? DEFAULT_SHARED_ALLREDUCE_BYTES;
    if (!(this.sharedBytes >= 0)) throw new RangeError(`sharedAllreduceBytes must be a non-negative number of bytes, got ${this.sharedBytes}`);
    for (const j of channels.out.keys()) if (channels.outPorts?.has(j) && channels.inPorts?.has(j)) this.ported.add(j);
    this.arena = options.arena ? Arena.open(options.arena) : undefined;
    const handoff = (port: MessagePort | undefined) => (port ? { port, minBytes } : undefined);
    for (const [to, sab] of channels.out) {
      this.senders.set(to, new ShmSender(sab, options.timeoutMs, stall, `device ${device} → ${to}`, spin, options.chunkBytes, handoff(channels.outPorts?.get(to))));
    }
    const canBlock = options.blocking ? () => this.pendingSends() === 0 : undefined;
    for (const [from, sab] of channels.in) {
      this.receivers.set(from, new ShmReceiver(sab, `device ${from} → ${device}`, spin, canBlock, handoff(channels.inPorts?.get(from))));
    }
  }

  send(to: number, tag: string, data: Float32Array): void {
    const s = this.senders.get(to);
    if (!s) throw new Error(`device ${this.device} has no channel to device ${to}`);
    s.send(tag, data);
  }

  recv(from: number, tag: string): Promise<Float32Array> {
    const r = this.receivers.get(from);
    if (!r) return Promise.reject(new Error(`device ${this.device} has no channel from device ${from}`));
    return r.receive(tag, this.options.timeoutMs);
  }

  /** Receives message `tag` from `from` into `sink` (chunks straight out of the ring). */
  recvInto(from: number, tag: string, sink: ReceiveSink): Promise<void> {
    const r = this.receivers.get(from);
    if (!r) return Promise.reject(new Error(`device ${this.device} has no channel from device ${from}`));
    return r.receiveInto(tag, this.options.timeoutMs, sink);
  }

  async allreduce(group: number[], tag: string, data: Float32Array): Promise<Float32Array> {
    const out = Float32Array.from(data);
    await this.allreduceInPlace(group, tag, out);
    return out;
  }

  /**
   * The all-reduce the executor uses. Buffers of at least `sharedAllreduceBytes` whose
   * group is connected by hand-off ports are summed on shared memory (shm-allreduce.ts);
   * others by allreduceInPlace. Resolves with the array holding the sum: `data`, or (the
   * first time a plain buffer goes the shared way) its copy in shared memory, which the
   * caller must use in place of `data` from then on. Every member decides the same way
   * (same size, same options, ports on every pair), so members never mix algorithms.
   */
  async allreduceShared(group: number[], tag: string, data: Float32Array): Promise<Float32Array> {
    const me = this.device;
    const shared =
      group.length > 1 &&
      this.options.allreduce !== "root" &&
      data.byteLength >= this.sharedBytes &&
      group.every((d) => d === me || this.ported.has(d));
    if (!shared || !group.includes(me)) {
      await this.allreduceInPlace(group, tag, data);
      return data;
    }
    const buf = inSharedMemory(data) ? data : this.moveToShared(data);
    const arena = this.arena;
    const links = {
      share: (to: number, t: string, view: Float32Array) => this.senders.get(to)!.share(t, view),
      send: (to: number, t: string, d: Float32Array) => this.send(to, t, d),
      recvInto: (from: number, t: string, sink: ReceiveSink) => this.recvInto(from, t, sink),
      sumInto: (views: readonly Float32Array[], lo: number, hi: number) => (arena ? arena.sumInto(views, lo, hi) : sumInto(views, lo, hi)),
    };
    await allreduceOnSharedMemory(links, me, group, tag, buf);
    return buf;
  }

  /** A copy of `data` in the arena if there is room, else in a SharedArrayBuffer of its own. */
  private moveToShared(data: Float32Array): Float32Array {
    const a = this.arena?.alloc(data.length);
    if (!a) return sharedCopy(data);
    a.set(data);
    return a;
  }

  /** The all-reduce, leaving the sum in `data` (the executor's buffer). */
  async allreduceInPlace(group: number[], tag: string, data: Float32Array): Promise<void> {
    const me = this.device;
    const k = group.indexOf(me);
    if (k < 0) throw new Error(`allreduce ${tag}: device ${me} is not in group [${group.join(", ")}]`);
    const n = group.length;
    if (n === 1) return;
    if (this.options.allreduce === "root") {
      data.set(await allreduceViaSendRecv(me, group, tag, data, (to, t, d) => this.send(to, t, d), (from, t) => this.recv(from, t)));
      return;
    }
    // Reduce-scatter: send every other member its slice of my contribution (sends copy it).
    for (let j = 0; j < n; j++) {
      if (j === k) continue;
      const [lo, hi] = sliceOf(data.length, n, j);
      this.send(group[j], `${tag}/rs`, data.subarray(lo, hi));
    }
    const [lo, hi] = sliceOf(data.length, n, k);
    const sink = new SliceSink();
    sink.data = data;
    sink.base = lo;
    sink.expect = hi - lo;
    // Group order: x[g0] + x[g1] + ..., accumulated left to right into my slice of `data`,
    // which holds x[gk] until its turn (kept aside when it is not first or second).
    let mine: Float32Array | undefined;
    if (k >= 2) mine = data.slice(lo, hi);
    for (let j = 0; j < n; j++) {
      if (j === k) {
        if (mine) addInto(data, lo, mine, 0, mine.length);
        continue;
      }
      sink.what = `allreduce ${tag}: device ${group[j]} sent slice ${k}`;
      sink.add = j > 0;
      sink.addLeft = j === 0 && k === 1;
      await this.recvInto(group[j], `${tag}/rs`, sink);
    }
    // All-gather.
    const summed = data.subarray(lo, hi);
    for (let j = 0; j < n; j++) if (j !== k) this.send(group[j], `${tag}/ag`, summed);
    sink.add = false;
    sink.addLeft = false;
    for (let j = 0; j < n; j++) {
      if (j === k) continue;
      const [a, b] = sliceOf(data.length, n, j);
      sink.base = a;
      sink.expect = b - a;
      sink.what = `allreduce ${tag}: device ${group[j]} returned slice ${j}`;
      await this.recvInto(group[j], `${tag}/ag`, sink);
    }
  }

  /** Messages queued in senders (waiting for ring space). */
  pendingSends(): number {
    let n = 0;
    for (const s of this.senders.values()) n += s.pending();
    return n;
  }

  /** Arrived but never received, per peer (empty after a complete step). */
  unclaimed(): string[] {
    const out: string[] = [];
    for (const [from, r] of this.receivers) for (const t of r.unclaimed()) out.push(`${from}>${this.device}#${t}`);
    return out;
  }
}

/**
 * Channel buffers for every ordered pair of `devices`; `capacity(from, to)` sizes each
 * ring (bytes). With `ports` (default), each pair also gets a hand-off MessageChannel.
 */
export function createChannels(
  devices: readonly number[],
  capacity: (from: number, to: number) => number,
  make: (bytes: number) => SharedArrayBuffer,
  ports = true,
): Map<number, DeviceChannels> {
  const out = new Map<number, DeviceChannels>();
  for (const d of devices) out.set(d, ports ? { out: new Map(), in: new Map(), outPorts: new Map(), inPorts: new Map() } : { out: new Map(), in: new Map() });
  for (const a of devices) {
    for (const b of devices) {
      if (a === b) continue;
      const sab = make(capacity(a, b));
      out.get(a)!.out.set(b, sab);
      out.get(b)!.in.set(a, sab);
      if (ports) {
        const { port1, port2 } = new MessageChannel();
        out.get(a)!.outPorts!.set(b, port1);
        out.get(b)!.inPorts!.set(a, port2);
      }
    }
  }
  return out;
}
