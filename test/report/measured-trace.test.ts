// Reading the measured timeline of a `par run --trace` file (the format of
// src/cli/commands/run.ts measuredEvents: a "measured (backend)" process, a track per
// device, "step N" events and one event per instruction), and the coded errors for files
// that are not one (PAR4050, PAR4051) or do not fit the report (PAR4052, PAR4053).
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Diagnostics } from "../../src/core/diagnostics.js";
import { checkMeasured, measuredFromTrace, readMeasuredTrace } from "../../src/report/measured-trace.js";
import { thrownCode } from "../support/errors.js";

type Ev = Record<string, unknown>;

/** A run of `steps` steps on `devices` devices: per step a forward (op a), a send and an update (op b). */
function runTrace(devices: number, steps: number, other: Record<string, unknown> = { model: "mlp", strategy: "dp", mesh: "local" }): { traceEvents: Ev[]; otherData: Record<string, unknown> } {
  const ev: Ev[] = [
    { name: "process_name", ph: "M", pid: 0, tid: 0, args: { name: "predicted (simulator)" } },
    { name: "xfer", ph: "X", pid: 0, tid: 0, ts: 0, dur: 5, cat: "xfer", args: { op: "a" } },
    { name: "process_name", ph: "M", pid: 1, tid: 0, args: { name: "measured (wasm)" } },
  ];
  for (let d = 0; d < devices; d++) {
    ev.push({ name: "thread_name", ph: "M", pid: 1, tid: d, args: { name: `device ${d}` } });
    for (let s = 0; s < steps; s++) {
      const t0 = 1000 * s + 10 * d;
      ev.push({ name: `step ${s}`, cat: "step", ph: "X", pid: 1, tid: d, ts: t0, dur: 900, args: { step: s } });
      ev.push({ name: "forward a", cat: "forward", ph: "X", pid: 1, tid: d, ts: t0, dur: 400, args: { op: "a", instruction: 0, step: s } });
      ev.push({ name: "send", cat: "send", ph: "X", pid: 1, tid: d, ts: t0 + 400, dur: 100, args: { op: "b", instruction: 1, step: s } });
      ev.push({ name: "update", cat: "update", ph: "X", pid: 1, tid: d, ts: t0 + 600, dur: 200, args: { op: "b", instruction: 2, step: s } });
    }
  }
  return { traceEvents: ev, otherData: other };
}

const OPS = new Map([["a", 0], ["b", 1]]);

describe("measured trace", () => {
  it("takes the last step every device finished, relative to its earliest start", () => {
    const trace = runTrace(2, 3);
    // Device 1 also has a fourth step that device 0 never finished.
    trace.traceEvents.push({ name: "step 3", cat: "step", ph: "X", pid: 1, tid: 1, ts: 3000, dur: 900, args: { step: 3 } });
    const m = measuredFromTrace(trace, "t.json", OPS);
    expect(m.step).toBe(2);
    expect(m.source).toBe("measured (wasm)");
    expect(m.kinds).toEqual(["forward", "send", "update"]);
    expect(m.stepTime).toBeCloseTo(910e-6, 12);
    expect(m.devices.map((d) => d.device)).toEqual([0, 1]);
    const d1 = m.devices[1];
    expect(d1.tasks).toEqual([
      [10, 400, 0, 0, 0],
      [410, 100, 1, 1, 1],
      [610, 200, 2, 1, 0],
    ]);
    expect(d1.compute).toBeCloseTo(600e-6, 12);
    expect(d1.comm).toBeCloseTo(100e-6, 12);
    expect(d1.span).toBeCloseTo(910e-6, 12);
    expect(d1.idle).toBeCloseTo(210e-6, 12);
    expect(m.ran).toEqual({ model: "mlp", strategy: "dp", mesh: "local" });
  });

  it("rejects files that are not a measured trace with coded errors", () => {
    const dir = mkdtempSync(join(tmpdir(), "par-trace-"));
    writeFileSync(join(dir, "bad.json"), "{ not json");
    expect(thrownCode(() => readMeasuredTrace(join(dir, "bad.json"), "bad.json", OPS))).toBe("PAR4050");
    expect(thrownCode(() => readMeasuredTrace(join(dir, "missing.json"), "missing.json", OPS))).toBe("PAR4001");
    expect(thrownCode(() => measuredFromTrace({ format: "par-plan" }, "p.json", OPS))).toBe("PAR4050");
    expect(thrownCode(() => measuredFromTrace([], "p.json", OPS))).toBe("PAR4050");
    // A simulated trace (`par simulate --trace`) predicts only.
    const predicted = runTrace(2, 1).traceEvents.filter((e) => e.pid === 0);
    expect(thrownCode(() => measuredFromTrace({ traceEvents: predicted }, "sim.json", OPS))).toBe("PAR4051");
    const noSteps = runTrace(2, 1).traceEvents.filter((e) => e.cat !== "step");
    expect(thrownCode(() => measuredFromTrace({ traceEvents: noSteps }, "x.json", OPS))).toBe("PAR4050");
  });

  it("devices the mesh lacks are an error; another strategy is a warning", () => {
    const m = measuredFromTrace(runTrace(4, 1), "t.json", OPS);
    const d1 = new Diagnostics();
    expect(checkMeasured(m, { model: "mlp", strategy: "dp", mesh: "local", devices: 2 }, d1)).toBe(false);
    expect(d1.errors.map((d) => d.code)).toEqual(["PAR4052"]);
    expect(d1.errors[0].message).toMatch(/devices 2, 3/);
    const d2 = new Diagnostics();
    expect(checkMeasured(m, { model: "mlp", strategy: "mp", mesh: "local", devices: 4 }, d2)).toBe(true);
    expect(d2.items.map((d) => [d.severity, d.code])).toEqual([["warning", "PAR4053"]]);
    expect(d2.items[0].message).toMatch(/strategy dp.*strategy mp/);
    const d3 = new Diagnostics();
    expect(checkMeasured(m, { model: "mlp", strategy: "dp", mesh: "local", devices: 4 }, d3)).toBe(true);
    expect(d3.items).toEqual([]);
  });
});
