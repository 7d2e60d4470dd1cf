// The runtime's diagnostic codes, each provoked through the public API: the device
// executor on corrupted plans (PAR5050–PAR5054), backend selection (PAR5100) and the
// worker runner's preflight and startup checks (PAR5104–PAR5106).
import { join } from "node:path";
import { tmpdir } from "node:os";
import { beforeAll, describe, expect, it } from "vitest";
import { singleDeviceStrategy } from "../../src/codegen/lower.js";
import type { Plan } from "../../src/plan/plan.js";
import { ParError } from "../../src/core/diagnostics.js";
import { nativeTfjsInstalled } from "../../src/core/local-memory.js";
import type { Graph } from "../../src/ir/graph.js";
import type { Strategy } from "../../src/ir/strategy.js";
import type { TF } from "../../src/ops/contract.js";
import { initBackend } from "../../src/runtime/backend.js";
import type { Comm } from "../../src/runtime/exec/comm.js";
import { DeviceExecutor } from "../../src/runtime/exec/executor.js";
import { liveWorkerCount, runPlan } from "../../src/runtime/workers/run-workers.js";
import { useBackend } from "../support/tf.js";
import { ensureWorkerBuild } from "./ensure-build.js";
import { mlp, pipelineStrategy, plans } from "./graphs.js";

/** The code of the ParError `f` throws (or the promise it returns rejects with). */
async function codeOf(f: () => unknown): Promise<{ code: string; message: string }> {
  try {
    await f();
  } catch (e) {
    expect(e).toBeInstanceOf(ParError);
    const d = (e as ParError).diagnostics[0];
    return { code: d.code, message: d.message };
  }
  throw new Error("expected a ParError, nothing was thrown");
}

/** Every op of `g` split along its sample dim (dim 0 of the first space dim) over `n` devices. */
function dataParallel(g: Graph, n: number): Strategy {
  const ops: Strategy["ops"] = {};
  for (const o of g.topoOrder()) {
    const degrees = o.sig.space.map((_, i) => (i === 0 ? n : 1));
    ops[o.name] = { degrees, devices: Array.from({ length: n }, (_, i) => i) };
  }
  return { name: "dp", model: g.name, mesh: `cpu${n}`, ops };
}

/** A Comm whose every message and all-reduce result has one element too many. */
class WrongLengthComm implements Comm {
  readonly sent: string[] = [];
  send(_to: number, tag: string): void {
    this.sent.push(tag);
  }
  async recv(): Promise<Float32Array> {
    return new Float32Array(1_000_003);
  }
  async allreduce(_group: number[], _tag: string, data: Float32Array): Promise<Float32Array> {
    return new Float32Array(data.length + 1);
  }
}

const noComm: Comm = {
  send: () => undefined,
  recv: () => Promise.reject(new Error("no messages in a single-device plan")),
  allreduce: (_g, _t, d) => Promise.resolve(d),
};

describe("device executor codes (PAR5050–PAR5054)", () => {
  let tf: TF;
  let single: Plan;
  const fresh = (): Plan => structuredClone(single);
  beforeAll(async () => {
    tf = await useBackend("cpu");
    const g = mlp(8, 6, 5, 3);
    single = plans(g, singleDeviceStrategy(g), 1).single;
  });

  it("the untouched plan runs (the corruptions below are what fails)", async () => {
    const r = await new DeviceExecutor(fresh(), 0, tf, noComm).step(0);
    expect(Number.isFinite(r.loss)).toBe(true);
  });

  it("PAR5050: the plan has no program for the device", async () => {
    const plan = fresh();
    plan.programs = plan.programs.filter((p) => p.device !== 0);
    const e = await codeOf(() => new DeviceExecutor(plan, 0, tf, noComm));
    expect(e.code).toBe("PAR5050");
    expect(e.message).toContain("device 0");
  });

  it("PAR5051: an op of an unknown kind cannot be re-inferred", async () => {
    const plan = fresh();
    plan.ops[0].op = "no_such_op";
    const e = await codeOf(() => new DeviceExecutor(plan, 0, tf, noComm));
    expect(e.code).toBe("PAR5051");
    expect(e.message).toContain("no_such_op");
  });

  it("PAR5051: an op reads a tensor the plan does not have", async () => {
    const plan = fresh();
    const fc1 = plan.ops.find((o) => o.name === "fc1")!;
    fc1.inputs = ["missing_tensor"];
    const e = await codeOf(() => new DeviceExecutor(plan, 0, tf, noComm));
    expect(e.code).toBe("PAR5051");
    expect(e.message).toContain("missing_tensor");
  });

  it("PAR5052: an instruction names a buffer the device does not hold", async () => {
    const plan = fresh();
    const ins = plan.programs[0].instructions;
    const at = ins.findIndex((i) => i.kind === "zero" || i.kind === "fill" || i.kind === "feed");
    expect(at).toBeGreaterThanOrEqual(0);
    ins[at] = { ...(ins[at] as Extract<(typeof ins)[number], { kind: "zero" }>), buf: "no_such_buffer" };
    const ex = new DeviceExecutor(plan, 0, tf, noComm);
    const e = await codeOf(() => ex.step(0));
    expect(e.code).toBe("PAR5052");
    expect(e.message).toContain("no_such_buffer");
  });

  it("PAR5052: a param buffer whose tensor has no param entry", async () => {
    const plan = fresh();
    plan.params = [];
    const e = await codeOf(() => new DeviceExecutor(plan, 0, tf, noComm));
    expect(e.code).toBe("PAR5052");
  });

  it("PAR5053: an all-reduce result of the wrong length", async () => {
    const g = mlp(8, 6, 5, 3);
    const { plan } = plans(g, dataParallel(g, 2), 2);
    expect(plan.programs[0].instructions.some((i) => i.kind === "allreduce")).toBe(true);
    const ex = new DeviceExecutor(plan, 0, tf, new WrongLengthComm());
    const e = await codeOf(() => ex.step(0));
    expect(e.code).toBe("PAR5053");
    expect(e.message).toContain("all-reduce");
  });

  it("PAR5053: a received message of the wrong length", async () => {
    const g = mlp(8, 6, 5, 3);
    const { plan } = plans(g, pipelineStrategy(g), 2);
    expect(plan.programs[1].instructions.some((i) => i.kind === "recv")).toBe(true);
    const ex = new DeviceExecutor(plan, 1, tf, new WrongLengthComm());
    const e = await codeOf(() => ex.step(0));
    expect(e.code).toBe("PAR5053");
    expect(e.message).toMatch(/message .* has 1000003 elements/);
  });

  it("PAR5054: a feed's teacher tensor is not in the plan", async () => {
    const plan = fresh();
    const fed = plan.tensors.find((t) => t.feed && t.feed.kind !== "uniform" && t.feed.teacher !== null);
    expect(fed).toBeDefined();
    (fed!.feed as { teacher: string | null }).teacher = "no_such_teacher";
    const ex = new DeviceExecutor(plan, 0, tf, noComm);
    const e = await codeOf(() => ex.step(0));
    expect(e.code).toBe("PAR5054");
    expect(e.message).toContain("no_such_teacher");
  });
});

describe("backend codes", () => {
  it.skipIf(nativeTfjsInstalled())("PAR5100: backend `tensorflow` without tfjs-node", async () => {
    const e = await codeOf(() => initBackend("tensorflow"));
    expect(e.code).toBe("PAR5100");
    expect(e.message).toContain("tfjs-node");
  });
});

describe("worker runner codes (PAR5104–PAR5106)", () => {
  let plan: Plan;
  beforeAll(() => {
    ensureWorkerBuild();
    const g = mlp(8, 6, 5, 3);
    plan = plans(g, dataParallel(g, 2), 2).plan;
  }, 180_000);

  it("PAR5104: the worker script is missing", async () => {
    const missing = join(tmpdir(), "par-no-such-dir", "worker.js");
    const e = await codeOf(() => runPlan(plan, { steps: 1, backend: "cpu", workerScript: missing }));
    expect(e.code).toBe("PAR5104");
    expect(e.message).toContain(missing);
    expect(liveWorkerCount()).toBe(0);
  });

  it("PAR5105: a fault injection names a device the plan does not have", async () => {
    const e = await codeOf(() => runPlan(plan, { steps: 1, backend: "cpu", faultInjection: { device: 7, instruction: 0, kind: "throw" } }));
    expect(e.code).toBe("PAR5105");
    expect(e.message).toContain("device 7");
    expect(liveWorkerCount()).toBe(0);
  });

  it("PAR5105: a fault injection names an instruction past the device's program", async () => {
    const n = plan.programs[0].instructions.length;
    const e = await codeOf(() => runPlan(plan, { steps: 1, backend: "cpu", faultInjection: { device: 0, instruction: n, kind: "throw" } }));
    expect(e.code).toBe("PAR5105");
  });

  it("PAR5050: a plan without programs fails at once instead of waiting for devices that never start", async () => {
    const t0 = performance.now();
    const e = await codeOf(() => runPlan({ ...plan, programs: [] }, { steps: 1, backend: "cpu" }));
    expect(e.code).toBe("PAR5050");
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(liveWorkerCount()).toBe(0);
  });

  it("PAR5106: the workers do not start within the startup limit, and none is left behind", async () => {
    const e = await codeOf(() => runPlan(plan, { steps: 1, backend: "cpu", startupTimeoutMs: 1 }));
    expect(e.code).toBe("PAR5106");
    expect(e.message).toMatch(/did not start within 1 ms/);
    expect(liveWorkerCount()).toBe(0);
  }, 60_000);
});
