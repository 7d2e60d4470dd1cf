// Single-copy hand-off of large messages over a pair's MessagePort (shm-handoff.ts, used
// by shm-channel.ts), in one thread: a MessageChannel works the same between two ends in
// one thread as between workers.
import fc from "fast-check";
import { MessageChannel } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { createChannelBuffer, ShmReceiver, ShmSender, type ReceiveSink } from "../../../src/runtime/shm/channel.js";
import { createChannels, ShmComm } from "../../../src/runtime/shm/comm.js";
import { assertProperty } from "../../support/property.js";

function ramp(n: number, base = 0): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => base + i * 0.5);
}

/** A pair with a 4 KiB ring and a hand-off port for messages of at least `minBytes`. */
function pair(minBytes: number, timeoutMs = 2000) {
  const sab = createChannelBuffer(4096);
  const { port1, port2 } = new MessageChannel();
  const stalls: string[] = [];
  const tx = new ShmSender(sab, timeoutMs, (e) => stalls.push(e.message), "tx", undefined, undefined, { port: port1, minBytes });
  const rx = new ShmReceiver(sab, "rx", undefined, undefined, { port: port2, minBytes });
  return { sab, tx, rx, port1, port2, stalls };
}

/** A sink that adopts whole messages, recording what it got and what it gave up. */
function adoptingSink(initial: Float32Array) {
  const s = {
    data: initial,
    adopted: 0,
    chunks: 0,
    begin(total: number) {
      if (total !== s.data.length) throw new Error(`length ${total}`);
    },
    chunk(src: Float32Array, at: number, offset: number, count: number) {
      s.chunks++;
      s.data.set(src.subarray(at, at + count), offset);
    },
    adopt(a: Float32Array) {
      s.adopted++;
      const old = s.data;
      s.data = a;
      return old;
    },
  };
  return s;
}

describe("shm hand-off", () => {
  it("a message above the threshold skips the ring: it never queues, whatever the ring size, and the sender may reuse its buffer", async () => {
    const { tx, rx } = pair(1024);
    const big = ramp(100_000, 3); // 400 KB through a 4 KiB ring
    tx.send("big", big);
    expect(tx.pending()).toBe(0);
    big.fill(-1);
    tx.send("small", ramp(10));
    const got = await rx.receive("big", 1000);
    expect(got.buffer).not.toBeInstanceOf(SharedArrayBuffer);
    expect(Array.from(got)).toEqual(Array.from(ramp(100_000, 3)));
    expect(Array.from(await rx.receive("small", 1000))).toEqual(Array.from(ramp(10)));
    expect(rx.unclaimed()).toEqual([]);
  });

  it("a sink that adopts takes the payload without a copy; the array it replaced refills the sender's pool and is reused", async () => {
    const { tx, rx } = pair(1024);
    const n = 50_000;
    const mine = new Float32Array(n);
    const sink = adoptingSink(mine);
    tx.send("a", ramp(n, 1));
    await rx.receiveInto("a", 1000, sink);
    expect(sink.adopted).toBe(1);
    expect(sink.chunks).toBe(0);
    expect(sink.data === mine).toBe(false);
    expect(sink.data[n - 1]).toBe(1 + (n - 1) * 0.5);
    // The replaced array went to the sender: detached here, pooled there.
    expect(mine.byteLength).toBe(0);
    expect((tx as unknown as { handoff: { pooledBytes(): number } }).handoff.pooledBytes()).toBe(n * 4);
    // The next send takes it from the pool (nothing is allocated).
    tx.send("b", ramp(n, 2));
    expect((tx as unknown as { handoff: { pooledBytes(): number } }).handoff.pooledBytes()).toBe(0);
    const first = sink.data;
    await rx.receiveInto("b", 1000, sink);
    expect(sink.data[0]).toBe(2);
    expect(first.byteLength).toBe(0);
  });

  it("a sink without adopt gets the payload as one chunk, and the payload goes back to the sender", async () => {
    const { tx, rx } = pair(1024);
    const n = 4000;
    const dst = new Float32Array(n);
    const seen: number[] = [];
    const sink: ReceiveSink = {
      begin: (t) => seen.push(t),
      chunk: (src, at, offset, count) => {
        seen.push(offset, count);
        dst.set(src.subarray(at, at + count), offset);
      },
    };
    tx.send("m", ramp(n));
    await rx.receiveInto("m", 1000, sink);
    expect(seen).toEqual([n, 0, n]);
    expect(Array.from(dst)).toEqual(Array.from(ramp(n)));
    expect((tx as unknown as { handoff: { pooledBytes(): number } }).handoff.pooledBytes()).toBe(n * 4);
  });

  it("a handed-off message met while receiving another is stashed as it came (no copy) and adopted later", async () => {
    const { tx, rx } = pair(1024);
    tx.send("first", ramp(1000, 1));
    tx.send("second", ramp(1000, 2));
    expect(Array.from(await rx.receive("second", 1000))).toEqual(Array.from(ramp(1000, 2)));
    const sink = adoptingSink(new Float32Array(1000));
    await rx.receiveInto("first", 1000, sink);
    expect(sink.adopted).toBe(1);
    expect(sink.data[999]).toBe(1 + 999 * 0.5);
  });

  it("a record whose payload is late waits for it within the deadline; one that never comes times out, named", async () => {
    // The sender posts to a port nobody reads; the test feeds the receiver's port itself.
    const sab = createChannelBuffer(4096);
    const lost = new MessageChannel();
    const fed = new MessageChannel();
    const tx = new ShmSender(sab, 1000, () => undefined, "tx", undefined, undefined, { port: lost.port1, minBytes: 16 });
    const rx = new ShmReceiver(sab, "rx", undefined, undefined, { port: fed.port2, minBytes: 16 });
    tx.send("late", ramp(100, 7));
    const payload = ramp(100, 7);
    setTimeout(() => fed.port1.postMessage(payload.buffer, [payload.buffer as ArrayBuffer]), 60);
    const t = Date.now();
    const got = await rx.receive("late", 2000);
    expect(Date.now() - t).toBeGreaterThanOrEqual(50);
    expect(got[99]).toBe(7 + 99 * 0.5);
    tx.send("never", ramp(100));
    await expect(rx.receive("never", 80)).rejects.toThrow(/waiting for message never \(the payload of message never never reached the hand-off port\)/);
    expect(rx.unclaimed()).toEqual(["never (payload not on the hand-off port)"]);
  });

  it("a payload of the wrong size, or a hand-off record at a receiver without a port, is a clear error", async () => {
    const sab = createChannelBuffer(4096);
    const lost = new MessageChannel();
    const fed = new MessageChannel();
    const tx = new ShmSender(sab, 1000, () => undefined, "tx", undefined, undefined, { port: lost.port1, minBytes: 16 });
    const rx = new ShmReceiver(sab, "rx", undefined, undefined, { port: fed.port2, minBytes: 16 });
    tx.send("short", ramp(100));
    fed.port1.postMessage(new ArrayBuffer(8));
    await expect(rx.receive("short", 500)).rejects.toThrow(/rx: message short: the hand-off port carried 8 bytes, expected 400 bytes/);

    const sab2 = createChannelBuffer(4096);
    const tx2 = new ShmSender(sab2, 1000, () => undefined, "tx", undefined, undefined, { port: new MessageChannel().port1, minBytes: 16 });
    const rx2 = new ShmReceiver(sab2, "rx2");
    tx2.send("m", ramp(100));
    await expect(rx2.receive("m", 500)).rejects.toThrow(/rx2: message m was handed off, but this receiver has no hand-off port/);
  });

  it("hand-off records queue behind ring messages that wait for space, and keep their order", async () => {
    const { tx, rx } = pair(64 * 1024);
    // 40 KB through a 4 KiB ring: queued; the 64 KiB one after it is handed off but its record waits.
    tx.send("ring", ramp(10_000, 1));
    tx.send("port", ramp(20_000, 2));
    expect(tx.pending()).toBe(2);
    expect(Array.from(await rx.receive("ring", 2000))).toEqual(Array.from(ramp(10_000, 1)));
    expect(Array.from(await rx.receive("port", 2000))).toEqual(Array.from(ramp(20_000, 2)));
    expect(tx.pending()).toBe(0);
  });

  it("any mix of ring and handed-off messages arrives intact, received in any order", async () => {
    const arb = fc.record({
      sizes: fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 12 }),
      minBytes: fc.constantFrom(0, 4, 400, 4000, Infinity),
      order: fc.array(fc.nat(), { maxLength: 12 }),
    });
    await assertProperty(
      fc.asyncProperty(arb, async ({ sizes, minBytes, order }) => {
        const { tx, rx } = pair(minBytes);
        sizes.forEach((n, i) => tx.send(`m${i}`, ramp(n, i)));
        // A permutation of the messages from `order`'s draws.
        const left = sizes.map((_, i) => i);
        const seq: number[] = [];
        for (const o of order) if (left.length) seq.push(left.splice(o % left.length, 1)[0]);
        seq.push(...left);
        for (const i of seq) {
          const got = await rx.receive(`m${i}`, 2000);
          expect(Array.from(got)).toEqual(Array.from(ramp(sizes[i], i)));
        }
        expect(rx.unclaimed()).toEqual([]);
        expect(tx.pending()).toBe(0);
      }),
      60,
    );
  });

  it("all-reduce over hand-off ports gives every member the ring's bits (group order)", async () => {
    for (const n of [2, 3, 4]) {
      const len = 5003;
      const data = Array.from({ length: n }, (_, d) => Float32Array.from({ length: len }, (_, i) => Math.sin(i * 0.37 + d) * (d + 1) * 1e3));
      const ref = Float32Array.from(data[0]);
      for (let d = 1; d < n; d++) for (let i = 0; i < len; i++) ref[i] += data[d][i];
      for (const handoffBytes of [0, 1024, Infinity]) {
        const devices = Array.from({ length: n }, (_, i) => i);
        const ch = createChannels(devices, () => 4096, createChannelBuffer);
        const cs = devices.map((d) => new ShmComm(d, ch.get(d)!, { timeoutMs: 2000, handoffBytes }));
        const results = await Promise.all(cs.map((c, d) => c.allreduce(devices, `t${n}`, data[d])));
        for (const r of results) expect(Buffer.from(r.buffer, r.byteOffset, r.byteLength).equals(Buffer.from(ref.buffer))).toBe(true);
        for (const c of cs) expect(c.unclaimed()).toEqual([]);
      }
    }
  });

  it("ShmComm rejects a negative or NaN threshold", () => {
    const ch = createChannels([0, 1], () => 4096, createChannelBuffer);
    expect(() => new ShmComm(0, ch.get(0)!, { timeoutMs: 100, handoffBytes: -1 })).toThrow(/handoffBytes must be a non-negative number of bytes, got -1/);
    expect(() => new ShmComm(0, ch.get(0)!, { timeoutMs: 100, handoffBytes: NaN })).toThrow(/handoffBytes/);
  });
});
