// Strategy JSON version 2: the large-scale fields, device range texts, version selection
// on write, and reading with positions.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Diagnostics } from "../../src/core/diagnostics.js";
import { Graph } from "../../src/ir/graph.js";
import { deviceRangeText, parseDeviceRangeText } from "../../src/ir/device-list.js";
import { strategyFromJson, strategyFromJsonText, strategyJsonText, strategyToJson } from "../../src/ir/strategy-json.js";
import { validateStrategy } from "../../src/ir/strategy-validate.js";
import { usesScaleFeatures, type Strategy } from "../../src/ir/strategy.js";
import { assertProperty } from "../support/property.js";
import { add, arbGraph, f32, mlp, testMesh } from "./fixtures.js";
import { randomScaleStrategy, scaleTestMesh } from "./random-strategy.js";

/** mlp(8, 6, 4, 3) on 8 devices: 2 replicas (offset 4), a 2-stage 1F1B pipeline of 2 micro-batches. */
function pipelined(): Strategy {
  return {
    name: "pp",
    model: "mlp",
    mesh: "test1x8",
    replicas: { count: 2, offset: 4 },
    pipeline: {
      microbatches: 2,
      schedule: "1f1b",
      stages: [
        { first: "fc1", last: "relu1", devices: [0, 1] },
        { first: "fc2", last: "loss", devices: [2, 3] },
      ],
    },
    zero: 2,
    recompute: ["relu1"],
    precision: "bf16",
    ops: {
      fc1: { degrees: [2, 1, 1], devices: [0, 1] },
      relu1: { degrees: [2, 1], devices: [0, 1] },
      fc2: { degrees: [1, 1, 1], devices: [3] },
      loss: { degrees: [2], devices: [2, 3] },
    },
  };
}

function read(text: string, graph: Graph = mlp()) {
  const d = new Diagnostics();
  const s = strategyFromJsonText(graph, text, "s.json", d);
  return { s, d, codes: d.items.map((x) => x.code), at: d.items.map((x) => `${x.pos?.line}:${x.pos?.column}`) };
}

const V2_HEAD = `"format": "par-strategy", "version": 2, "name": "s", "model": "mlp", "mesh": "test1x8"`;
const V2_OPS = `"ops": {"fc1": {"devices": [0]}, "relu1": {"devices": [0]}, "fc2": {"devices": [0]}, "loss": {"devices": [0]}}`;

describe("strategy JSON version 2", () => {
  it("writes the large-scale fields in a fixed order, device lists as range texts where shorter", () => {
    const text = strategyJsonText(mlp(), pipelined());
    expect(text).toBe(`{
  "format": "par-strategy",
  "version": 2,
  "name": "pp",
  "model": "mlp",
  "mesh": "test1x8",
  "replicas": { "count": 2, "offset": 4 },
  "pipeline": {
    "microbatches": 2,
    "schedule": "1f1b",
    "stages": [
      { "ops": ["fc1", "relu1"], "devices": [0, 1] },
      { "ops": ["fc2", "loss"], "devices": [2, 3] }
    ]
  },
  "zero": 2,
  "recompute": ["relu1"],
  "precision": "bf16",
  "ops": {
    "fc1": { "dims": { "sample": 2 }, "devices": [0, 1] },
    "relu1": { "dims": { "sample": 2 }, "devices": [0, 1] },
    "fc2": { "devices": [3] },
    "loss": { "dims": { "sample": 2 }, "devices": [2, 3] }
  }
}
`);
    const d = new Diagnostics();
    expect(validateStrategy(mlp(), scaleTestMesh(8), pipelined(), d)).toBe(true);
    expect(d.items).toEqual([]);
    expect(read(text).s).toEqual(pipelined());
  });

  it("writes version 1, byte for byte as before, when no large-scale field is in use", () => {
    const s: Strategy = { ...pipelined(), pipeline: undefined, replicas: { count: 1, offset: 8 }, zero: 0, recompute: [], precision: "f32" };
    expect(usesScaleFeatures(s)).toBe(false);
    const j = strategyToJson(mlp(), s);
    expect(j.version).toBe(1);
    expect(Object.keys(j)).toEqual(["format", "version", "name", "model", "mesh", "ops"]);
    expect(strategyJsonText(mlp(), s)).toContain(`"fc1": { "dims": { "sample": 2 }, "devices": [0, 1] }`);
  });

  it("writes a long contiguous device list as one range, and the interleaved schedule's virtual stages", () => {
    const s = pipelined();
    s.pipeline = { microbatches: 2, schedule: "interleaved", virtualStages: 2, stages: [
      { first: "fc1", last: "fc1", devices: [0, 1, 2, 3] },
      { first: "relu1", last: "loss", devices: [0, 1, 2, 3] },
    ] };
    s.replicas = undefined;
    const text = strategyJsonText(mlp(), s);
    expect(text).toContain(`"schedule": "interleaved",\n    "virtualStages": 2,\n    "stages": [\n      { "ops": ["fc1", "fc1"], "devices": "0..3" },`);
    expect(read(text).s).toEqual(s);
  });

  it("property: random strategies with replicas, pipelines, ZeRO, recomputation and precision validate and round-trip", () => {
    let scaled = 0;
    assertProperty(
      fc.property(arbGraph, fc.integer({ min: 1, max: 8 }), fc.integer(), (g, devices, seed) => {
        const s = randomScaleStrategy(g, devices, seed);
        const d = new Diagnostics();
        validateStrategy(g, scaleTestMesh(devices), s, d);
        expect(d.items).toEqual([]);
        const text = strategyJsonText(g, s);
        expect(JSON.parse(text).version).toBe(usesScaleFeatures(s) ? 2 : 1);
        if (usesScaleFeatures(s)) scaled++;
        const back = strategyFromJsonText(g, text, "r.json", d);
        expect(d.items).toEqual([]);
        expect(back).toEqual(s);
        expect(strategyJsonText(g, back!)).toBe(text);
        expect(strategyFromJson(g, JSON.parse(text), "r.json", d)).toEqual(s);
      }),
      150,
    );
    expect(scaled).toBeGreaterThan(50);
  });

  it("reads device range texts and arrays alike; fields at their defaults are left out", () => {
    const r = read(`{${V2_HEAD}, "zero": 0, "precision": "f32", "recompute": [], "replicas": {"count": 1, "offset": 3},
      "ops": {"fc1": {"dims": {"sample": 4}, "devices": " 0 .. 2 ,7"}, "relu1": {"devices": [5]}, "fc2": {"devices": "6"}, "loss": {"devices": [0]}}}`);
    expect(r.d.items).toEqual([]);
    expect(r.s).toEqual({
      name: "s",
      model: "mlp",
      mesh: "test1x8",
      ops: {
        fc1: { degrees: [4, 1, 1], devices: [0, 1, 2, 7] },
        relu1: { degrees: [1, 1], devices: [5] },
        fc2: { degrees: [1, 1, 1], devices: [6] },
        loss: { degrees: [1], devices: [0] },
      },
    });
  });

  it("PAR3161: a bad device range text, at its position", () => {
    const desc = read(`{${V2_HEAD},\n"ops": {"fc1": {"devices": "3..1"}}}`);
    expect(desc.codes).toEqual(["PAR3161"]);
    expect(desc.d.items[0].message).toBe("`/ops/fc1/devices`: device range 3..1 is empty (ranges are inclusive and ascending)");
    expect(desc.at).toEqual(["2:28"]);
    expect(read(`{${V2_HEAD}, "ops": {"fc1": {"devices": "0..99999999"}}}`).d.items[0].message).toMatch(/too long/);
    // A few bytes of text may stand for a million devices: a file's texts have a budget in all.
    const million = `"0..${2 ** 20 - 1}"`;
    const stages = Array.from({ length: 70 }, () => `{"ops": ["fc1", "loss"], "devices": ${million}}`).join(", ");
    const hostile = read(`{${V2_HEAD}, "pipeline": {"microbatches": 1, "schedule": "gpipe", "stages": [${stages}]}, ${V2_OPS}}`);
    expect(hostile.d.items.map((x) => x.message)).toEqual([`\`/pipeline/stages/64/devices\`: the device range texts of this file expand to more than ${2 ** 26} devices`]);
    const shape = read(`{${V2_HEAD}, "ops": {"fc1": {"devices": "0-3"}}}`);
    expect(shape.codes).toEqual(["PAR3161"]);
    expect(shape.d.items[0].message).toBe("`/ops/fc1/devices` is not a device list");
    expect(read(`{${V2_HEAD}, "ops": {"fc1": {"devices": 3}}}`).d.items[0].message).toBe("`/ops/fc1/devices` must be array or string");
    // Version 1 has only arrays.
    expect(read(`{"format": "par-strategy", "version": 1, "name": "s", "model": "mlp", "mesh": "m", "ops": {"fc1": {"devices": "0..3"}}}`).d.items[0].message).toBe("`/ops/fc1/devices` must be array");
  });

  it("PAR3161: large-scale fields in a version-1 file, with a hint; unknown fields in nested v2 objects, with a did-you-mean", () => {
    const v1 = read(`{"format": "par-strategy", "version": 1, "name": "s", "model": "mlp", "mesh": "m", "zero": 1, "ops": {}}`);
    expect(v1.codes).toEqual(["PAR3161"]);
    expect(v1.d.items[0].hint).toMatch(/need `"version": 2`/);
    const nested = read(`{${V2_HEAD}, "pipeline": {"microbatch": 2, "schedule": "1f1b", "stages": [{"ops": ["fc1", "loss"], "devices": [0]}]}, ${V2_OPS}}`);
    const unknown = nested.d.items.find((x) => x.message.includes("microbatch`"));
    expect(unknown?.message).toBe("unknown field `microbatch` in `/pipeline`");
    expect(unknown?.hint).toBe("did you mean `microbatches`?");
    expect(unknown?.expected).toBe("one of `microbatches`, `schedule`, `virtualStages`, `stages`");
    const schedule = read(`{${V2_HEAD}, "pipeline": {"microbatches": 2, "schedule": "pipedream", "stages": [{"ops": ["fc1", "loss"], "devices": [0]}]}, ${V2_OPS}}`);
    expect(schedule.d.items.map((x) => x.message)).toEqual(['`/pipeline/schedule` must be one of "gpipe", "1f1b", "interleaved"']);
    const version = read(`{"format": "par-strategy", "version": "2", "name": "s", "model": "mlp", "mesh": "m", "ops": {}}`);
    expect(version.d.items.map((x) => x.message)).toEqual(["`/version` must be 1 or 2"]);
  });

  it("PAR3165 and PAR3186: unknown op names in stages and in recompute, at their positions, with a did-you-mean", () => {
    const r = read(`{${V2_HEAD},\n"pipeline": {"microbatches": 1, "schedule": "gpipe", "stages": [{"ops": ["fc1", "relu"], "devices": [0]}]},\n"recompute": ["fc2", "fc3"],\n${V2_OPS}}`);
    expect(r.codes).toEqual(["PAR3165", "PAR3186"]);
    expect(r.at).toEqual(["2:81", "3:22"]);
    expect(r.d.items[0].message).toBe("stage 0 ends at `relu`, which is not an op of `mlp`");
    expect(r.d.items[0].hint).toBe("did you mean `relu1`?");
    expect(r.d.items[1].hint).toMatch(/did you mean `fc[12]`/);
  });

  it("reads and writes 1,000 ops on 1,024 devices quickly, with arrays or range texts", () => {
    const g = new Graph("wide", { batch: 1024 });
    g.addInput("x", f32(1024, 8));
    let t = "x";
    for (let i = 0; i < 1000; i++) t = add(g, `op${i}`, "relu", [t]);
    const mesh = testMesh(1, 1024);
    const contiguous = Array.from({ length: 1024 }, (_, i) => i);
    const shuffled = contiguous.map((i) => (i * 389) % 1024);
    for (const [devices, form] of [[contiguous, "range"], [shuffled, "array"]] as const) {
      const ops: Strategy["ops"] = {};
      for (const o of g.topoOrder()) ops[o.name] = { degrees: [1024, 1], devices: [...devices] };
      const s: Strategy = { name: "big", model: "wide", mesh: mesh.name, pipeline: { microbatches: 1, schedule: "gpipe", stages: [{ first: "op0", last: "op999", devices: contiguous }] }, ops };
      const t0 = performance.now();
      const text = strategyJsonText(g, s);
      const d = new Diagnostics();
      const back = strategyFromJsonText(g, text, "big.json", d);
      expect(validateStrategy(g, mesh, back!, d)).toBe(true);
      const ms = performance.now() - t0;
      expect(d.items).toEqual([]);
      expect(back).toEqual(s);
      expect(text.includes(`"op0": { "dims": { "sample": 1024 }, "devices": "0..1023" }`)).toBe(form === "range");
      // About 0.1 s (range) and 0.5 s (arrays) on a laptop; generous for a busy CI machine.
      expect(ms, `${form}: ${ms.toFixed(0)} ms`).toBeLessThan(5000);
    }
  });
});

describe("device range texts", () => {
  it("property: the text of a list reads back as the list; runs become ranges", () => {
    assertProperty(
      fc.property(fc.array(fc.nat(40), { minLength: 1, maxLength: 30 }), (devices) => {
        expect(parseDeviceRangeText(deviceRangeText(devices))).toEqual(devices);
      }),
      300,
    );
    expect(deviceRangeText([0, 1, 2, 3, 8, 5, 6])).toBe("0..3, 8, 5..6");
    expect(parseDeviceRangeText("1,")).toEqual({ message: "the device list ends with a comma", at: 1 });
    expect(parseDeviceRangeText(" ")).toMatchObject({ message: "the device list is empty" });
    expect(parseDeviceRangeText("1 2")).toMatchObject({ message: "expected a device index or a range a..b at `1 2`" });
  });
});
