import { describe, expect, it } from "vitest";
import { CostModel } from "../../src/cost/compute.js";
import { simulate } from "../../src/sim/simulate.js";
import { toChromeTrace } from "../../src/sim/trace.js";
import { clusterMesh, dataParallel, mlp } from "./fixtures.js";

describe("Chrome trace export", () => {
  it("one named track per device and link, X events in microseconds with the task names", () => {
    const g = mlp(32, 64, 2);
    const mesh = clusterMesh(2, 2);
    const t = simulate(g, mesh, dataParallel(g, 4), new CostModel(g, mesh));
    const tr = toChromeTrace(t, "mlp dp");
    const json = JSON.parse(JSON.stringify(tr));
    const x = json.traceEvents.filter((e: { ph: string }) => e.ph === "X");
    expect(x.length).toBe(t.tasks.length);
    const names = json.traceEvents.filter((e: { ph: string; name: string }) => e.ph === "M" && e.name === "thread_name");
    const tids = new Set(x.map((e: { tid: number }) => e.tid));
    for (const tid of tids) expect(names.some((m: { tid: number }) => m.tid === tid)).toBe(true);
    expect(names.find((m: { tid: number }) => m.tid === 0).args.name).toBe("device 0");
    expect(x.some((e: { name: string }) => e.name === "fc0 fwd [0]")).toBe(true);
    expect(x.some((e: { name: string }) => e.name === "fc1 bwd [3]")).toBe(true);
    expect(x.some((e: { name: string }) => e.name === "allreduce fc0.weight")).toBe(true);
    const last = Math.max(...x.map((e: { ts: number; dur: number }) => e.ts + e.dur));
    expect(last).toBeCloseTo(t.iterationTime * 1e6, 6);
  });
});
