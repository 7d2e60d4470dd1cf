// validateStrategy on the large-scale fields: one test per code (PAR3165–PAR3189), each
// changing one thing in a valid pipelined, replicated strategy.
import { describe, expect, it } from "vitest";
import { builtinMesh } from "../../src/core/builtin-meshes.js";
import { Diagnostics } from "../../src/core/diagnostics.js";
import type { Mesh } from "../../src/core/mesh.js";
import { Graph } from "../../src/ir/graph.js";
import { hasDataParallelGroup, scaleProblems } from "../../src/ir/strategy-validate-scale.js";
import { validateStrategy } from "../../src/ir/strategy-validate.js";
import type { Strategy } from "../../src/ir/strategy.js";
import { add, addFake, f32, mlp, residualMlp, testMesh } from "./fixtures.js";
import { scaleTestMesh } from "./random-strategy.js";

/**
 * residualMlp(2) (batch 8) on 8 devices: 2 replicas (offset 4), two 1F1B stages of 2
 * micro-batches on devices 0-1 and 2-3; every op splits its 2 samples per micro-batch.
 */
function good(): Strategy {
  const g = residualMlp(2);
  const ops: Strategy["ops"] = {};
  for (const o of g.topoOrder()) {
    const second = o.name.startsWith("layer1") || o.name === "loss";
    ops[o.name] = { degrees: o.sig.space.map((d) => (d.cls === "sample" ? 2 : 1)), devices: second ? [2, 3] : [0, 1] };
  }
  return {
    name: "s",
    model: "resmlp",
    mesh: "test1x8",
    replicas: { count: 2, offset: 4 },
    pipeline: {
      microbatches: 2,
      schedule: "1f1b",
      stages: [
        { first: "layer0.fc1", last: "layer0.res", devices: [0, 1] },
        { first: "layer1.fc1", last: "loss", devices: [2, 3] },
      ],
    },
    zero: 1,
    recompute: ["layer0.relu", "layer1.relu"],
    precision: "bf16",
    ops,
  };
}

function run(s: Strategy, graph: Graph = residualMlp(2), mesh: Mesh = scaleTestMesh(8)) {
  const d = new Diagnostics();
  const ok = validateStrategy(graph, mesh, s, d);
  return { ok, d, codes: d.items.map((x) => x.code), messages: d.items.map((x) => x.message) };
}

describe("validateStrategy: pipelines", () => {
  it("accepts the valid strategy", () => {
    const r = run(good());
    expect(r.d.items).toEqual([]);
    expect(r.ok).toBe(true);
  });

  it("PAR3165: a stage bound that is not an op", () => {
    const s = good();
    s.pipeline!.stages[1].last = "los";
    const r = run(s);
    expect(r.codes).toEqual(["PAR3165"]);
    expect(r.messages[0]).toBe("stage 1 ends at `los`, which is not an op of the model");
  });

  it("PAR3166: stages must continue each other, cover every op and not run backwards", () => {
    const gap = good();
    gap.pipeline!.stages[1].first = "layer1.relu";
    expect(run(gap).codes).toEqual(["PAR3166"]);
    expect(run(gap).messages[0]).toBe("ops `layer1.fc1` are in no stage: stage 1 starts at `layer1.relu`");
    const overlap = good();
    overlap.pipeline!.stages[1].first = "layer0.res";
    expect(run(overlap).messages).toEqual(["stage 1 starts at `layer0.res`, inside stage 0 (ops are in one stage each, in topological order)"]);
    const short = good();
    short.pipeline!.stages[1].last = "layer1.res";
    expect(run(short).messages).toEqual(["ops `loss` are in no stage: the last stage ends at `layer1.res`"]);
    const backwards = good();
    backwards.pipeline!.stages[0] = { first: "layer0.res", last: "layer0.fc1", devices: [0, 1] };
    expect(run(backwards).codes).toEqual(["PAR3166"]);
    expect(run(backwards).messages[0]).toMatch(/ends at `layer0.fc1`, which comes before its first op/);
  });

  it("PAR3167: a stage's devices are non-empty, distinct and inside the mesh", () => {
    for (const [devices, text] of [[[], "no devices"], [[2, 9], "device 9 outside the mesh"], [[2, 3, 2], "device 2 twice"]] as const) {
      const s = good();
      s.pipeline!.stages[1].devices = [...devices];
      const r = run(s);
      expect(r.codes[0]).toBe("PAR3167");
      expect(r.messages[0]).toBe(`stage 1 has ${text}`);
    }
  });

  it("PAR3168: stages run on disjoint devices; interleaved stage k on stage k mod p's", () => {
    const s = good();
    s.pipeline!.stages[1].devices = [1, 2, 3];
    expect(run(s).codes).toContain("PAR3168");
    expect(run(s).messages.find((m) => m.startsWith("stage 1 shares"))).toBe("stage 1 shares device 1 with stage 0");
    const g = residualMlp(2);
    const inter: Strategy = {
      ...good(),
      pipeline: {
        microbatches: 2,
        schedule: "interleaved",
        virtualStages: 2,
        stages: [
          { first: "layer0.fc1", last: "layer0.relu", devices: [0, 1] },
          { first: "layer0.fc2", last: "layer0.res", devices: [2, 3] },
          { first: "layer1.fc1", last: "layer1.fc2", devices: [0, 1] },
          { first: "layer1.res", last: "loss", devices: [3, 2] },
        ],
      },
    };
    const stageOf = (name: string) => ["layer0.fc1", "layer0.relu"].includes(name) || ["layer1.fc1", "layer1.relu", "layer1.fc2"].includes(name) ? [0, 1] : [2, 3];
    for (const o of g.topoOrder()) inter.ops[o.name].devices = stageOf(o.name);
    const r = run(inter, g);
    expect(r.codes).toEqual(["PAR3168"]);
    expect(r.messages[0]).toBe("stage 3 must run on the devices of stage 1 (interleaved: stage k on device group k mod 2)");
    inter.pipeline!.stages[3].devices = [2, 3];
    expect(run(inter, g).d.items).toEqual([]);
  });

  it("PAR3169: an op's devices lie within its stage's", () => {
    const s = good();
    s.ops["layer1.fc2"].devices = [2, 0];
    const r = run(s);
    expect(r.codes).toEqual(["PAR3169"]);
    expect(r.messages[0]).toBe("op `layer1.fc2` is in stage 1, but device 0 of its config is not among the stage's devices");
  });

  it("PAR3175, PAR3176: micro-batches ≥ 1 and a known schedule", () => {
    const s = good();
    s.pipeline!.microbatches = 0;
    expect(run(s).codes).toContain("PAR3175");
    const t = good();
    (t.pipeline as { schedule: string }).schedule = "pipedream";
    expect(run(t).codes).toEqual(["PAR3176"]);
  });

  it("PAR3177: virtual stages only with interleaving, and there at least 2 dividing the stages", () => {
    const s = good();
    s.pipeline!.virtualStages = 2;
    expect(run(s).codes).toEqual(["PAR3177"]);
    expect(run(s).messages[0]).toBe("virtual stages (2) need the interleaved schedule; this pipeline is `1f1b`");
    const t = good();
    t.pipeline!.schedule = "interleaved";
    expect(run(t).codes).toEqual(["PAR3177"]);
    t.pipeline!.virtualStages = 3;
    expect(run(t).codes).toEqual(["PAR3177"]);
  });

  it("PAR3178: interleaving needs the micro-batches in whole rounds over the device groups", () => {
    const g = residualMlp(2);
    const s = good();
    s.replicas = undefined;
    s.zero = undefined;
    s.pipeline = {
      microbatches: 2,
      schedule: "interleaved",
      virtualStages: 2,
      stages: ["layer0.fc1", "layer0.fc2", "layer0.res", "layer1.fc1", "layer1.relu", "layer1.fc2", "layer1.res", "loss"].map((first, k, all) => ({
        first,
        last: k === 0 ? "layer0.relu" : k < all.length - 1 ? first : "loss",
        devices: [k % 4],
      })),
    };
    // Stage k (8 stages, p = 4 groups) on device k mod 4; each op whole there.
    const order = g.topoOrder().map((o) => o.name);
    const starts = s.pipeline.stages.map((st) => order.indexOf(st.first));
    for (const [i, name] of order.entries()) {
      const k = starts.filter((x) => x <= i).length - 1;
      s.ops[name] = { degrees: g.op(name).sig.space.map(() => 1), devices: [k % 4] };
    }
    const r = run(s, g);
    expect(r.codes).toEqual(["PAR3178"]);
    expect(r.messages[0]).toBe("the interleaved schedule needs the micro-batches to be a multiple of the 4 device groups; it has 2");
    s.pipeline.microbatches = 8;
    expect(run(s, g).d.items).toEqual([]);
  });
});

describe("validateStrategy: micro-batches and replicas", () => {
  it("PAR3179: the batch splits into replicas × micro-batches", () => {
    const s = good();
    s.pipeline!.microbatches = 3;
    const r = run(s);
    expect(r.codes).toEqual(["PAR3179"]);
    expect(r.messages[0]).toMatch(/^a sample dim of size 8 \(ops `layer0.fc1`, .* \(9 in all\)\) does not split into 2 replicas × 3 micro-batches \(6 equal parts\)$/);
    const g = new Graph("flat");
    g.addInput("x", f32(4, 6));
    addFake(g, "reshape", "reshape", ["x"], [{ name: "sample", cls: "sample", size: 24, splittable: false }], f32(24));
    const flat: Strategy = { name: "f", model: "flat", mesh: "test1x2", replicas: { count: 2, offset: 1 }, ops: { reshape: { degrees: [1], devices: [0] } } };
    expect(run(flat, g, testMesh(1, 2)).messages).toEqual(["op `reshape` cannot run on part of its sample dim, so the batch cannot be split into 2 replicas"]);
  });

  it("PAR3180: a sample degree fits one micro-batch of one replica", () => {
    const s = good();
    s.ops["layer1.fc1"] = { degrees: [4, 1, 1], devices: [2, 3, 2, 3] };
    const r = run(s);
    expect(r.codes).toEqual(["PAR3180"]);
    expect(r.messages[0]).toBe("op `layer1.fc1`: degree 4 of `sample` exceeds the 2 samples of one micro-batch (8 / 4)");
  });

  it("PAR3181, PAR3182, PAR3183: replica counts and offsets; images inside the mesh and apart", () => {
    const s = good();
    s.replicas = { count: 2, offset: 0 };
    expect(run(s).codes).toContain("PAR3181");
    const out = good();
    out.replicas = { count: 2, offset: 6 };
    expect(run(out).codes).toEqual(["PAR3182"]);
    expect(run(out).messages[0]).toBe("2 replicas 6 devices apart leave the mesh of 8 devices: 2 → 8 (replica 1), 3 → 9 (replica 1)");
    const clash = good();
    clash.replicas = { count: 2, offset: 2 };
    expect(run(clash).codes).toEqual(["PAR3183"]);
    expect(run(clash).messages[0]).toBe("replicas 2 devices apart land on devices replica 0 already uses: 0 → 2 (replica 1), 1 → 3 (replica 1)");
  });
});

describe("validateStrategy: ZeRO, recomputation, precision", () => {
  it("PAR3184: a ZeRO stage in 0..3; PAR3185: a warning when nothing is data parallel", () => {
    const s = good();
    (s as { zero: number }).zero = 4;
    expect(run(s).codes).toEqual(["PAR3184"]);
    const alone = good();
    alone.replicas = undefined;
    for (const c of Object.values(alone.ops)) {
      c.degrees = c.degrees.map(() => 1);
      c.devices = [c.devices[0]];
    }
    const r = run(alone);
    expect(r.codes).toEqual(["PAR3185"]);
    expect(r.d.items[0].severity).toBe("warning");
    expect(r.ok).toBe(true);
  });

  it("hasDataParallelGroup: replicas, or tasks holding the same weight shard on different devices", () => {
    const g = mlp();
    const whole: Strategy = { name: "w", model: "mlp", mesh: "m", ops: {} };
    for (const o of g.topoOrder()) whole.ops[o.name] = { degrees: o.sig.space.map(() => 1), devices: [0] };
    expect(hasDataParallelGroup(g, whole)).toBe(false);
    // fc1 split by channel: different shards, no group.
    whole.ops.fc1 = { degrees: [1, 2, 1], devices: [0, 1] };
    expect(hasDataParallelGroup(g, whole)).toBe(false);
    // fc1 split by sample onto one device: the same shard, one holder.
    whole.ops.fc1 = { degrees: [2, 1, 1], devices: [0, 0] };
    expect(hasDataParallelGroup(g, whole)).toBe(false);
    whole.ops.fc1 = { degrees: [2, 1, 1], devices: [0, 1] };
    expect(hasDataParallelGroup(g, whole)).toBe(true);
    // relu has no weights: its sample split is no group.
    whole.ops.fc1 = { degrees: [1, 1, 1], devices: [0] };
    whole.ops.relu1 = { degrees: [2, 1], devices: [0, 1] };
    expect(hasDataParallelGroup(g, whole)).toBe(false);
    expect(hasDataParallelGroup(g, { ...whole, replicas: { count: 2, offset: 4 } })).toBe(true);
  });

  it("PAR3186: recompute names ops of the model, once; PAR3187: not a loss nor a weight source", () => {
    const s = good();
    s.recompute = ["layer0.relu", "layer9.relu", "layer0.relu"];
    const r = run(s);
    expect(r.codes).toEqual(["PAR3186", "PAR3186"]);
    expect(r.messages).toEqual(["`layer9.relu` is listed for recomputation but is not an op of `resmlp`", "`layer0.relu` is listed twice for recomputation"]);
    const t = good();
    t.recompute = ["loss"];
    expect(run(t).codes).toEqual(["PAR3187"]);
    const g = new Graph("tied", { batch: 4 });
    g.addInput("x", f32(4, 3));
    add(g, "w", "param", [], { shape: [3, 3] });
    const tied: Strategy = { name: "t", model: "tied", mesh: "test1x1", recompute: ["w"], ops: { w: { degrees: [1, 1], devices: [0] } } };
    expect(run(tied, g, testMesh(1, 1)).messages).toEqual(["op `w` cannot be recomputed: it is a weight source with no inputs (its output is a weight, always kept)"]);
  });

  it("PAR3188: a known precision; PAR3189: a warning when a device kind has no peak for it", () => {
    const s = good();
    (s as { precision: string }).precision = "fp8";
    expect(run(s).codes).toEqual(["PAR3188"]);
    const k80 = builtinMesh("k80x64")!;
    const t = good();
    t.mesh = "k80x64";
    const r = run(t, residualMlp(2), k80);
    expect(r.codes).toEqual(["PAR3189"]);
    expect(r.d.items[0].severity).toBe("warning");
    expect(r.messages[0]).toBe("`K80` in mesh `k80x64` has no bf16 peak: bf16 math would be emulated or unsupported");
    expect(r.d.items[0].hint).toMatch(/Ampere/);
  });

  it("groups one problem that many ops share into one diagnostic", () => {
    const s = good();
    s.pipeline!.microbatches = 8;
    s.replicas = undefined;
    s.zero = undefined;
    const r = run(s);
    expect(r.codes).toEqual(["PAR3180"]);
    expect(r.messages[0]).toBe(
      "op `layer0.fc1`: degree 2 of `sample` exceeds the 1 sample of one micro-batch (8 / 8) (the same for 8 more ops: `layer0.relu`, `layer0.fc2`, `layer0.res`, `layer1.fc1`, `layer1.relu`, `layer1.fc2` and 2 more)",
    );
  });

  it("scaleProblems is empty for a strategy without large-scale fields", () => {
    const g = mlp();
    const s: Strategy = { name: "p", model: "mlp", mesh: "m", ops: {} };
    for (const o of g.topoOrder()) s.ops[o.name] = { degrees: o.sig.space.map(() => 1), devices: [0] };
    expect(scaleProblems(g, testMesh(1, 1), s)).toEqual([]);
  });
});

describe("validateStrategy: limits", () => {
  it("a huge replica count is reported quickly", () => {
    const s = good();
    s.replicas = { count: 2 ** 40, offset: 1 };
    const t0 = performance.now();
    const r = run(s);
    expect(r.codes).toContain("PAR3182");
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});
