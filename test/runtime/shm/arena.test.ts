// The arena (shm-arena.ts) and the shared-memory all-reduce on it (shm-allreduce.ts,
// ShmComm.allreduceShared), in one thread: views of the arena "from another thread" are
// made the way a thread gets them, by cloning its SharedArrayBuffer.
import fc from "fast-check";
import { MessageChannel } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { addIntoJs } from "../../../src/runtime/wasm/f32-add.js";
import { Arena, ARENA_SCRATCH_BYTES, createArena } from "../../../src/runtime/shm/arena.js";
import { createChannelBuffer, ShmReceiver, ShmSender } from "../../../src/runtime/shm/channel.js";
import { createChannels, ShmComm } from "../../../src/runtime/shm/comm.js";
import { assertProperty } from "../../support/property.js";

function bits(a: Float32Array): number[] {
  const u = new Uint32Array(a.buffer, a.byteOffset, a.length);
  return Array.from(a, (x, i) => (Number.isNaN(x) ? 0x7fc00000 : u[i]));
}

/** The same floats seen through another SharedArrayBuffer object (as a view posted to another thread is). */
function fromElsewhere(a: Float32Array): Float32Array {
  return new Float32Array(structuredClone(a.buffer as SharedArrayBuffer), a.byteOffset, a.length);
}

const f32 = fc.oneof(fc.float(), fc.constantFrom(0, -0, Infinity, -Infinity, NaN, 1.4e-45, 3.4028234663852886e38));

describe("arena", () => {
  it("gives each device its own range; alloc fills it and then says no; holds knows arena views from any thread", () => {
    const parts = createArena([3, 5], (d) => (d === 3 ? 1000 : 64))!;
    const a = Arena.open(parts.get(3)!)!;
    const b = Arena.open(parts.get(5)!)!;
    expect(parts.get(3)!.end).toBeLessThanOrEqual(parts.get(5)!.start);
    const x = a.alloc(250)!;
    expect(x.length).toBe(250);
    expect(x.byteOffset).toBeGreaterThanOrEqual(parts.get(3)!.start + ARENA_SCRATCH_BYTES);
    expect(x.byteOffset + x.byteLength).toBeLessThanOrEqual(parts.get(3)!.end);
    expect(a.alloc(1)).toBeUndefined();
    const y = b.alloc(16)!;
    expect(b.alloc(1)).toBeUndefined();
    expect(y.byteOffset).toBeGreaterThanOrEqual(parts.get(5)!.start);
    expect([a.holds(x), a.holds(y), b.holds(fromElsewhere(x))]).toEqual([true, true, true]);
    // Another arena, a SharedArrayBuffer of the same size, or a plain array is not this arena.
    const other = Arena.open(createArena([0], () => 1000)!.get(0)!)!;
    const sameSize = new Float32Array(new SharedArrayBuffer((x.buffer as SharedArrayBuffer).byteLength));
    expect([other.holds(x), a.holds(sameSize), a.holds(new Float32Array(4))]).toEqual([false, false, false]);
  });

  it("is refused past 4 GiB, and a malformed part does not open", () => {
    expect(createArena([0, 1], () => 3 * 2 ** 30)).toBeUndefined();
    const part = createArena([0], () => 100)!.get(0)!;
    expect(Arena.open({ ...part, end: part.start + 16 })).toBeUndefined();
    expect(Arena.open({ ...part, start: 0 })).toBeUndefined();
  });

  it("sumInto gives the left-to-right float32 sum in every view, arena or not, and touches nothing outside [lo, hi)", () => {
    const arb = fc.record({
      n: fc.integer({ min: 2, max: 4 }),
      len: fc.oneof(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 8180, max: 8300 }), fc.integer({ min: 16380, max: 16400 })),
      cut: fc.tuple(fc.nat(), fc.nat()),
      vals: fc.array(fc.array(f32, { minLength: 1, maxLength: 41 }), { minLength: 4, maxLength: 4 }),
      // Where each view lives: the arena (this thread's view or another's), its own SharedArrayBuffer, or plain memory.
      kinds: fc.array(fc.constantFrom("arena", "elsewhere", "sab", "plain"), { minLength: 4, maxLength: 4 }),
    });
    const parts = createArena([0, 1], () => 4 * 4 * 16400 + 64)!;
    assertProperty(
      fc.property(arb, ({ n, len, cut, vals, kinds }) => {
        const arena = Arena.open(parts.get(0)!)!;
        const store = Arena.open(parts.get(1)!)!;
        const views = Array.from({ length: n }, (_, m) => {
          const k = kinds[m];
          const v = k === "arena" || k === "elsewhere" ? store.alloc(len)! : k === "sab" ? new Float32Array(new SharedArrayBuffer(len * 4)) : new Float32Array(len);
          for (let i = 0; i < len; i++) v[i] = vals[m][i % vals[m].length];
          return k === "elsewhere" ? fromElsewhere(v) : v;
        });
        const want = views.map((v) => Float32Array.from(v));
        const lo = cut[0] % (len + 1);
        const hi = lo + (cut[1] % (len - lo + 1));
        const acc = want[0].slice(lo, hi);
        for (let m = 1; m < n; m++) addIntoJs(acc, 0, want[m], lo, hi - lo);
        for (const w of want) w.set(acc, lo);
        arena.sumInto(views, lo, hi);
        views.forEach((v, m) => expect(bits(v), `view ${m} (${kinds[m]})`).toEqual(bits(want[m])));
      }),
      100,
    );
  });
});

describe("shared-memory all-reduce", () => {
  function comms(n: number, opts: { arenaBytes?: (d: number) => number; sharedAllreduceBytes?: number; timeoutMs?: number } = {}) {
    const devices = Array.from({ length: n }, (_, i) => i);
    const ch = createChannels(devices, () => 4096, createChannelBuffer);
    const arena = opts.arenaBytes ? createArena(devices, opts.arenaBytes) : undefined;
    return devices.map((d) => new ShmComm(d, ch.get(d)!, { timeoutMs: opts.timeoutMs ?? 2000, sharedAllreduceBytes: opts.sharedAllreduceBytes ?? 0, ...(arena ? { arena: arena.get(d)! } : {}) }));
  }

  it("gives every member the ring all-reduce's bits, in the arena, without it, or with a member whose part is full; the buffer moves once", async () => {
    const len = 20_003;
    for (const n of [2, 3, 4]) {
      const data = Array.from({ length: n }, (_, d) => Float32Array.from({ length: len }, (_, i) => Math.sin(i * 0.37 + d) * (d + 1) * 1e3));
      const ref = Float32Array.from(data[0]);
      for (let d = 1; d < n; d++) for (let i = 0; i < len; i++) ref[i] += data[d][i];
      const setups = {
        arena: { arenaBytes: () => len * 4 },
        none: {},
        // Device 1 has no room: its buffer goes to a SharedArrayBuffer of its own.
        full: { arenaBytes: (d: number) => (d === 1 ? 0 : len * 4) },
      };
      for (const [name, setup] of Object.entries(setups)) {
        const cs = comms(n, setup);
        const group = cs.map((_, i) => i);
        let bufs: Float32Array[] = data.map((d) => Float32Array.from(d));
        bufs = await Promise.all(cs.map((c, d) => c.allreduceShared(group, "a", bufs[d])));
        for (const r of bufs) expect(bits(r), `${n} ${name}`).toEqual(bits(ref));
        for (const r of bufs) expect(r.buffer).toBeInstanceOf(SharedArrayBuffer);
        // Again on the returned arrays: they stay (nothing moves or is allocated), and sum again.
        const again = await Promise.all(cs.map((c, d) => c.allreduceShared(group, "b", bufs[d])));
        again.forEach((r, d) => expect(r).toBe(bufs[d]));
        const twice = Float32Array.from(ref);
        for (let d = 1; d < n; d++) for (let i = 0; i < len; i++) twice[i] += ref[i];
        for (const r of again) expect(bits(r)).toEqual(bits(twice));
        for (const c of cs) expect(c.unclaimed()).toEqual([]);
      }
    }
  });

  it("buffers under the threshold, or without ports, take the ring all-reduce in place", async () => {
    const cs = comms(2, { sharedAllreduceBytes: 1024 });
    const small = [Float32Array.of(1, 2, 3), Float32Array.of(4, 5, 6)];
    const out = await Promise.all(cs.map((c, d) => c.allreduceShared([0, 1], "s", small[d])));
    expect(out[0]).toBe(small[0]);
    expect(Array.from(out[1])).toEqual([5, 7, 9]);
    const ch = createChannels([0, 1], () => 4096, createChannelBuffer, false);
    const plain = [0, 1].map((d) => new ShmComm(d, ch.get(d)!, { timeoutMs: 2000, sharedAllreduceBytes: 0 }));
    const big = [new Float32Array(5000).fill(1), new Float32Array(5000).fill(2)];
    const r = await Promise.all(plain.map((c, d) => c.allreduceShared([0, 1], "p", big[d])));
    expect(r[0]).toBe(big[0]);
    expect(r[0].buffer).not.toBeInstanceOf(SharedArrayBuffer);
    expect(r[1][4999]).toBe(3);
  });

  it("a shared view reaches only a sink that knows the protocol; sharing needs a port", async () => {
    const sab = createChannelBuffer(4096);
    const { port1, port2 } = new MessageChannel();
    const tx = new ShmSender(sab, 1000, () => undefined, "tx", undefined, undefined, { port: port1, minBytes: 16 });
    const rx = new ShmReceiver(sab, "rx", undefined, undefined, { port: port2, minBytes: 16 });
    tx.share("v", new Float32Array(new SharedArrayBuffer(64)));
    await expect(rx.receive("v", 500)).rejects.toThrow(/rx: message v is a view of the sender's memory, which only an all-reduce takes/);
    expect(() => tx.share("w", new Float32Array(4))).toThrow(/not in shared memory/);
    const bare = new ShmSender(createChannelBuffer(4096), 1000, () => undefined, "bare");
    expect(() => bare.share("x", new Float32Array(new SharedArrayBuffer(16)))).toThrow(/bare: sharing x needs a hand-off port/);
  });

  it("a member that never joins makes the others time out, naming the channel and the share they wait for", async () => {
    const cs = comms(2, { arenaBytes: () => 4096, timeoutMs: 100 });
    await expect(cs[0].allreduceShared([0, 1], "lonely", new Float32Array(1000))).rejects.toThrow(/device 1 → 0: waiting for message lonely\/sh: no progress for 100 ms/);
  });

  it("ShmComm rejects a negative shared threshold", () => {
    const ch = createChannels([0, 1], () => 4096, createChannelBuffer);
    expect(() => new ShmComm(0, ch.get(0)!, { timeoutMs: 100, sharedAllreduceBytes: -1 })).toThrow(/sharedAllreduceBytes must be a non-negative number of bytes, got -1/);
  });
});
