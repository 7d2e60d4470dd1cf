// A `Comm` (src/runtime/comm.ts) over shared-memory channels: one ShmSender per peer this
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

import { allreduceViaSendRecv, type Comm } from "./comm.js";
import { ChannelTimeout, ShmReceiver, ShmSender } from "./shm-channel.js";

/** The channel buffers a device uses: `out.get(j)` carries this device → j, `in.get(j)` j → this device. */
export interface DeviceChannels {
  out: Map<number, SharedArrayBuffer>;
  in: Map<number, SharedArrayBuffer>;
}

export interface ShmCommOptions {
  /** Bound on every wait (ms). */
  timeoutMs: number;
  /** Called when a queued send stalls past the timeout (the receiver stopped reading). */
  onStall?: (e: ChannelTimeout) => void;
  /** "direct" (default): reduce-scatter + all-gather; "root": gather at the group's first member (comm.ts). */
  allreduce?: "direct" | "root";
}

/** The index range of member `k`'s slice when `n` elements are cut into `parts` slices. */
export function sliceOf(n: number, parts: number, k: number): [number, number] {
  const base = Math.floor(n / parts);
  const extra = n % parts;
  const lo = k * base + Math.min(k, extra);
  return [lo, lo + base + (k < extra ? 1 : 0)];
}

export class ShmComm implements Comm {
  private readonly senders = new Map<number, ShmSender>();
  private readonly receivers = new Map<number, ShmReceiver>();

  constructor(readonly device: number, channels: DeviceChannels, private readonly options: ShmCommOptions) {
    const stall = options.onStall ?? (() => undefined);
    for (const [to, sab] of channels.out) this.senders.set(to, new ShmSender(sab, options.timeoutMs, stall, `device ${device} → ${to}`));
    for (const [from, sab] of channels.in) this.receivers.set(from, new ShmReceiver(sab, `device ${from} → ${device}`));
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

  async allreduce(group: number[], tag: string, data: Float32Array): Promise<Float32Array> {
    const me = this.device;
    const k = group.indexOf(me);
    if (k < 0) throw new Error(`allreduce ${tag}: device ${me} is not in group [${group.join(", ")}]`);
    const n = group.length;
    if (n === 1) return Float32Array.from(data);
    if (this.options.allreduce === "root") {
      return allreduceViaSendRecv(me, group, tag, data, (to, t, d) => this.send(to, t, d), (from, t) => this.recv(from, t));
    }
    // Reduce-scatter: send every other member its slice of my contribution.
    for (let j = 0; j < n; j++) {
      if (j === k) continue;
      const [lo, hi] = sliceOf(data.length, n, j);
      this.send(group[j], `${tag}/rs`, data.subarray(lo, hi));
    }
    const [lo, hi] = sliceOf(data.length, n, k);
    const parts: Float32Array[] = [];
    for (let j = 0; j < n; j++) parts.push(j === k ? data.subarray(lo, hi) : await this.recv(group[j], `${tag}/rs`));
    // Group order: the first member's contribution, plus the second's, plus ...
    const mine = Float32Array.from(parts[0]);
    for (let j = 1; j < n; j++) {
      const p = parts[j];
      if (p.length !== mine.length) throw new Error(`allreduce ${tag}: device ${group[j]} sent ${p.length} elements for slice ${k}, expected ${mine.length}`);
      for (let i = 0; i < mine.length; i++) mine[i] += p[i];
    }
    // All-gather.
    for (let j = 0; j < n; j++) if (j !== k) this.send(group[j], `${tag}/ag`, mine);
    const out = new Float32Array(data.length);
    out.set(mine, lo);
    for (let j = 0; j < n; j++) {
      if (j === k) continue;
      const [a, b] = sliceOf(data.length, n, j);
      const part = await this.recv(group[j], `${tag}/ag`);
      if (part.length !== b - a) throw new Error(`allreduce ${tag}: device ${group[j]} returned ${part.length} elements for slice ${j}, expected ${b - a}`);
      out.set(part, a);
    }
    return out;
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

/** Channel buffers for every ordered pair of `devices`; `capacity(from, to)` sizes each ring (bytes). */
export function createChannels(devices: readonly number[], capacity: (from: number, to: number) => number, make: (bytes: number) => SharedArrayBuffer): Map<number, DeviceChannels> {
  const out = new Map<number, DeviceChannels>();
  for (const d of devices) out.set(d, { out: new Map(), in: new Map() });
  for (const a of devices) {
    for (const b of devices) {
      if (a === b) continue;
      const sab = make(capacity(a, b));
      out.get(a)!.out.set(b, sab);
      out.get(b)!.in.set(a, sab);
    }
  }
  return out;
}
