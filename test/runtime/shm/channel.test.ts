// The shared-memory channels and the Comm on them, within one thread (no workers needed:
// the waits are asynchronous, so two "devices" in one event loop exchange fine).
import { describe, expect, it } from "vitest";
import { createChannelBuffer, ringBytes, ShmReceiver, ShmSender } from "../../../src/runtime/shm/channel.js";
import { createChannels, ShmComm, sliceOf } from "../../../src/runtime/shm/comm.js";
import { allreduceViaSendRecv } from "../../../src/runtime/exec/comm.js";

function pair(bytes: number, timeoutMs = 2000) {
  const sab = createChannelBuffer(bytes);
  const stalls: string[] = [];
  return { sab, tx: new ShmSender(sab, timeoutMs, (e) => stalls.push(e.message)), rx: new ShmReceiver(sab), stalls };
}

function ramp(n: number, base = 0): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => base + i * 0.5);
}

describe("shm channel", () => {
  it("delivers messages in order and by tag, including out-of-order receives and empty messages", async () => {
    const { tx, rx } = pair(4096);
    tx.send("a", ramp(3));
    tx.send("b", ramp(5, 10));
    tx.send("empty", new Float32Array(0));
    expect(Array.from(await rx.receive("b", 100))).toEqual(Array.from(ramp(5, 10)));
    expect(Array.from(await rx.receive("a", 100))).toEqual(Array.from(ramp(3)));
    expect((await rx.receive("empty", 100)).length).toBe(0);
    expect(rx.unclaimed()).toEqual([]);
  });

  it("sends never block: a message 40× the ring is queued and streams as the receiver reads", async () => {
    const { sab, tx, rx } = pair(4096);
    const cap = ringBytes(sab);
    const big = ramp((40 * cap) / 4, 1);
    const t = performance.now();
    tx.send("big", big);
    tx.send("after", ramp(7));
    expect(performance.now() - t).toBeLessThan(50);
    expect(tx.pending()).toBeGreaterThan(0);
    big.fill(-1); // the sender kept its own copy
    const got = await rx.receive("big", 2000);
    expect(got.length).toBe(big.length);
    expect(got[0]).toBe(1);
    expect(got[got.length - 1]).toBe(1 + (got.length - 1) * 0.5);
    expect(Array.from(await rx.receive("after", 2000))).toEqual(Array.from(ramp(7)));
    expect(tx.pending()).toBe(0);
  });

  it("a receive without a send times out with the channel and tag named", async () => {
    const { rx } = pair(1024);
    await expect(rx.receive("never", 50)).rejects.toThrow(/waiting for message never/);
  });

  it("a sender whose receiver never reads reports a stall after the timeout", async () => {
    const { tx, stalls } = pair(1024, 100);
    tx.send("x", ramp(10_000));
    await new Promise((r) => setTimeout(r, 300));
    expect(stalls.join()).toMatch(/did not take queued data/);
  });
});

describe("shm comm", () => {
  function comms(n: number, ring = 1 << 16) {
    const devices = Array.from({ length: n }, (_, i) => i);
    const ch = createChannels(devices, () => ring, createChannelBuffer);
    return devices.map((d) => new ShmComm(d, ch.get(d)!, { timeoutMs: 2000 }));
  }

  it("slices cover the buffer exactly", () => {
    expect([0, 1, 2].map((k) => sliceOf(10, 3, k))).toEqual([[0, 4], [4, 7], [7, 10]]);
    expect([0, 1, 2].map((k) => sliceOf(2, 3, k))).toEqual([[0, 1], [1, 2], [2, 2]]);
  });

  it("all-reduce gives every member bit-identical sums, equal to the root all-reduce's", async () => {
    for (const n of [2, 3, 4]) {
      const cs = comms(n, 4096);
      const len = 3001;
      const data = cs.map((_, d) => Float32Array.from({ length: len }, (_, i) => Math.sin(i * 0.37 + d) * (d + 1) * 1e3));
      const results = await Promise.all(cs.map((c, d) => c.allreduce(cs.map((_, i) => i), `t${n}`, data[d])));
      // The root algorithm of comm.ts on an in-memory transport, for the reference bits.
      const ref = Float32Array.from(data[0]);
      for (let d = 1; d < n; d++) for (let i = 0; i < len; i++) ref[i] += data[d][i];
      for (const r of results) expect(Buffer.from(r.buffer).equals(Buffer.from(ref.buffer))).toBe(true);
      for (const c of cs) expect(c.unclaimed()).toEqual([]);
    }
    expect(typeof allreduceViaSendRecv).toBe("function");
  });

  it("all-reduce on a subgroup and point-to-point exchanges share the channels", async () => {
    const cs = comms(3);
    cs[0].send(2, "p", ramp(4));
    const [a, , c] = await Promise.all([cs[0].allreduce([0, 2], "g", ramp(5, 1)), Promise.resolve(null), cs[2].allreduce([0, 2], "g", ramp(5, 2))]);
    expect(Array.from(a)).toEqual(Array.from(c));
    expect(Array.from(await cs[2].recv(0, "p"))).toEqual(Array.from(ramp(4)));
  });
});
