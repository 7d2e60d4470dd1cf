// The executor on shared-memory channels in one thread (ShmComm: rings, hand-off ports,
// the ring and the shared-memory all-reduce, adoption of whole-buffer receives) computes
// exactly what it computes on the in-memory comm: every buffer of every device, bit for
// bit, each step.
import { beforeAll, describe, expect, it } from "vitest";
import type { Plan } from "../../../src/plan/plan.js";
import type { TF } from "../../../src/ops/contract.js";
import type { Comm } from "../../../src/runtime/exec/comm.js";
import { DeviceExecutor } from "../../../src/runtime/exec/executor.js";
import { MemoryHub } from "../../../src/runtime/exec/memory-comm.js";
import { createChannelBuffer } from "../../../src/runtime/shm/channel.js";
import { arenaBytes } from "../../../src/runtime/workers/run-workers.js";
import { Arena, createArena } from "../../../src/runtime/shm/arena.js";
import { createChannels, ShmComm, type ReceiveSink } from "../../../src/runtime/shm/comm.js";
import { useBackend } from "../../support/tf.js";
import { mixedStrategy, mlp, pipelineStrategy, plans } from "../graphs.js";

const MIXED = mixedStrategy();
const PIPE = pipelineStrategy(mlp());

interface Counts {
  adopted: number;
  /** Arrays the executor gave up (they must be detached: given back to the sender). */
  replaced: Float32Array[];
  /** All-reduces that returned an array in the arena. */
  inArena: number;
}

/** ShmComm, counting the adoptions the executor's receives accept. */
function counting(c: ShmComm, counts: Counts, arena: Arena | undefined): Comm {
  return {
    async allreduceShared(group: number[], tag: string, data: Float32Array) {
      const r = await c.allreduceShared(group, tag, data);
      if (arena?.holds(r)) counts.inArena++;
      return r;
    },
    send: (to, tag, data) => c.send(to, tag, data),
    recv: (from, tag) => c.recv(from, tag),
    allreduce: (group, tag, data) => c.allreduce(group, tag, data),
    recvInto(from: number, tag: string, sink: ReceiveSink) {
      const adopt = sink.adopt?.bind(sink);
      if (adopt) {
        sink.adopt = (a) => {
          counts.adopted++;
          const old = adopt(a);
          if (old) counts.replaced.push(old);
          return old;
        };
      }
      return c.recvInto(from, tag, sink);
    },
    allreduceInPlace: (group: number[], tag: string, data: Float32Array) => c.allreduceInPlace(group, tag, data),
  } as Comm;
}

async function compare(tf: TF, plan: Plan, handoffBytes: number, steps: number, sharedAllreduceBytes = Infinity): Promise<Counts> {
  const devices = plan.programs.map((p) => p.device);
  const hub = new MemoryHub();
  const ref = devices.map((d) => new DeviceExecutor(plan, d, tf, hub.comm(d)));
  const ch = createChannels(devices, () => 4096, createChannelBuffer);
  // Sized as runPlan sizes it.
  const arena = createArena(devices, arenaBytes(plan, sharedAllreduceBytes));
  const counts: Counts = { adopted: 0, replaced: [], inArena: 0 };
  const shm = devices.map((d) => new ShmComm(d, ch.get(d)!, { timeoutMs: 5000, handoffBytes, sharedAllreduceBytes, ...(arena ? { arena: arena.get(d)! } : {}) }));
  const ex = devices.map((d, i) => new DeviceExecutor(plan, d, tf, counting(shm[i], counts, arena && Arena.open(arena.get(d)!))));
  for (let s = 0; s < steps; s++) {
    const a = await Promise.all(ref.map((e) => e.step(s)));
    const b = await Promise.all(ex.map((e) => e.step(s)));
    expect(b.map((r) => r.loss)).toEqual(a.map((r) => r.loss));
    for (let i = 0; i < devices.length; i++) {
      for (const spec of ref[i].bufferSpecs()) {
        const want = ref[i].buffer(spec.id);
        const got = ex[i].buffer(spec.id);
        expect(Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(Buffer.from(want.buffer, want.byteOffset, want.byteLength)), `step ${s} device ${devices[i]} buffer ${spec.id}`).toBe(true);
      }
    }
    for (const c of shm) expect(c.unclaimed()).toEqual([]);
  }
  return counts;
}

describe("DeviceExecutor on ShmComm", () => {
  let tf: TF;
  beforeAll(async () => {
    tf = await useBackend("cpu");
  });

  for (const [name, strategy, n] of [["mixed", MIXED, 3], ["pipeline", PIPE, 2]] as const) {
    it(`${name}: every buffer matches the in-memory run bit for bit, with every message handed off (and adopted where whole), or none`, async () => {
      const { plan } = plans(mlp(), strategy, n);
      const all = await compare(tf, plan, 0, 3);
      // Whole-buffer receives took the payload as their buffer; what they replaced went back to the sender.
      expect(all.adopted).toBeGreaterThan(0);
      expect(all.replaced.length).toBe(all.adopted);
      for (const a of all.replaced) expect(a.byteLength).toBe(0);
      await compare(tf, plan, Infinity, 3);
    });
  }

  it("with every all-reduce on shared memory (buffers moved into the arena and kept there), the in-memory bits", async () => {
    const { plan } = plans(mlp(), MIXED, 3);
    const c = await compare(tf, plan, 0, 3, 0);
    const allreduces = plan.programs.reduce((a, p) => a + p.instructions.filter((i) => i.kind === "allreduce").length, 0);
    expect(allreduces).toBeGreaterThan(0);
    expect(c.inArena).toBe(3 * allreduces);
  });

  it("a receive into a param whose tensor is kept between forward and backward: the backward sees the received array, not the one given away", async () => {
    // fc2 is replicated on devices 1 and 2 (identical values): device 1 sends its copy at
    // the start of the step, device 2 receives it over its own between fc2's forward
    // (which keeps the weight's tensor, sharing the array on cpu) and its backward.
    const { plan } = plans(mlp(), MIXED, 3);
    const w = "p:fc2.weight[0:5,0:3]";
    const region = plan.programs[1].buffers.find((b) => b.id === w)!.region;
    const p1 = plan.programs.find((p) => p.device === 1)!;
    const p2 = plan.programs.find((p) => p.device === 2)!;
    p1.instructions.unshift({ kind: "send", to: 2, tag: "replica", src: w, region });
    const bw = p2.instructions.findIndex((i) => i.kind === "backward" && i.op === "fc2");
    expect(p2.instructions.slice(0, bw).some((i) => i.kind === "forward" && i.op === "fc2")).toBe(true);
    p2.instructions.splice(bw, 0, { kind: "recv", from: 1, tag: "replica", dst: w, region });
    const counts = await compare(tf, plan, 0, 2);
    expect(counts.adopted).toBeGreaterThan(0);
  });
});
