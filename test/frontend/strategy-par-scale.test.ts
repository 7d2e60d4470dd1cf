// `.par` strategies with the large-scale items: strategy-wide settings (replicas, ZeRO,
// precision), pipelines (even and explicit stages), `recompute` rules; resolution with
// positioned diagnostics, canonical printing, and the round trip on random strategies.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Diagnostics } from "../../src/core/diagnostics.js";
import type { Mesh } from "../../src/core/mesh.js";
import type { StrategyDecl } from "../../src/frontend/ast.js";
import { parse } from "../../src/frontend/parse.js";
import { format } from "../../src/frontend/print.js";
import { resolveStrategyDecl, strategyToPar } from "../../src/frontend/strategy-par.js";
import type { Graph } from "../../src/ir/graph.js";
import { validateStrategy } from "../../src/ir/strategy-validate.js";
import type { Strategy } from "../../src/ir/strategy.js";
import { assertProperty } from "../support/property.js";
import { arbGraph, mlp, residualMlp, testMesh } from "../ir/fixtures.js";
import { randomScaleStrategy, scaleTestMesh } from "../ir/random-strategy.js";

function decl(text: string): StrategyDecl {
  const d = new Diagnostics();
  const program = parse(text, "s.par", d);
  if (!program || d.hasErrors()) throw new Error(`parse: ${d.items.map((x) => `${x.code} ${x.message}`).join("; ")}`);
  const s = program.items.find((i): i is StrategyDecl => i.kind === "strategy");
  if (!s) throw new Error("no strategy in the text");
  return s;
}

function resolve(body: string, graph: Graph = residualMlp(2), mesh: Mesh = scaleTestMesh(8)) {
  const d = new Diagnostics();
  const s = resolveStrategyDecl(decl(`strategy s for ${graph.name} on ${mesh.name} {\n${body}\n}`), graph, mesh, "s.par", d);
  return {
    s,
    d,
    codes: d.items.map((x) => x.code),
    messages: d.items.map((x) => x.message),
    at: d.items.map((x) => `${x.pos?.line}:${x.pos?.column}`),
  };
}

/** strategyToPar → parse → resolve, with no diagnostics expected. */
function roundTrip(graph: Graph, s: Strategy, mesh: Mesh, withMesh: boolean): Strategy {
  const text = strategyToPar(graph, s, withMesh ? mesh : undefined);
  const d = new Diagnostics();
  const back = resolveStrategyDecl(decl(text), graph, mesh, "s.par", d);
  expect(d.items, text).toEqual([]);
  return back;
}

// residualMlp(2): x → layer0.{fc1, relu, fc2, res} → layer1.{fc1, relu, fc2, res} → loss (batch 8).
const RES_OPS = ["layer0.fc1", "layer0.relu", "layer0.fc2", "layer0.res", "layer1.fc1", "layer1.relu", "layer1.fc2", "layer1.res", "loss"];

describe(".par strategies: large-scale settings", () => {
  it("replicas, ZeRO and precision; ops default to replica 0's devices", () => {
    const r = resolve(`
  replicas = 2
  zero = 1; precision = bf16
  * : sample = 2`);
    expect(r.d.items).toEqual([]);
    expect(r.s.replicas).toEqual({ count: 2, offset: 4 });
    expect(r.s.zero).toBe(1);
    expect(r.s.precision).toBe("bf16");
    expect(r.s.ops["layer0.fc1"]).toEqual({ degrees: [2, 1, 1], devices: [0, 1] });
    // Megatron's rank order: replicas one device apart, replica 0 on every other device.
    const m = resolve(`replicas = 2, offset = 1\n* : sample = 4`);
    expect(m.d.items).toEqual([]);
    expect(m.s.ops.loss.devices).toEqual([0, 2, 4, 6]);
    // Defaults are left out of the strategy.
    const plain = resolve(`replicas = 1, offset = 3\nzero = 0\nprecision = f32`);
    expect(plain.d.items).toEqual([]);
    expect(Object.keys(plain.s)).toEqual(["name", "model", "mesh", "ops"]);
  });

  it("an even pipeline: `stages = p` cuts the ops by FLOPs onto consecutive device blocks", () => {
    const r = resolve(`pipeline(microbatches = 4, schedule = gpipe, stages = 2)\n* : sample = 2`);
    expect(r.d.items).toEqual([]);
    expect(r.s.pipeline).toEqual({
      microbatches: 4,
      schedule: "gpipe",
      stages: [
        { first: "layer0.fc1", last: "layer0.res", devices: [0, 1, 2, 3] },
        { first: "layer1.fc1", last: "loss", devices: [4, 5, 6, 7] },
      ],
    });
    // Each op's tasks default to its stage's first devices.
    expect(r.s.ops["layer1.fc2"].devices).toEqual([4, 5]);
    expect(r.s.ops["layer0.fc2"].devices).toEqual([0, 1]);
    // With replicas, the blocks are cut from replica 0's devices.
    const rep = resolve(`replicas = 2, offset = 1\npipeline(microbatches = 2, stages = 2)`);
    expect(rep.d.items).toEqual([]);
    expect(rep.s.pipeline?.schedule).toBe("1f1b");
    expect(rep.s.pipeline?.stages.map((s) => s.devices)).toEqual([[0, 2], [4, 6]]);
  });

  it("interleaving: stage k on device group k mod p; explicit stages default to the blocks", () => {
    const r = resolve(`pipeline(microbatches = 2, schedule = interleaved, virtual = 2) {
    layer0.fc1 .. layer0.fc2
    layer0.res .. layer1.relu : devices = [6, 7]
    layer1.fc2
    layer1.res .. loss
  }`);
    expect(r.d.items).toEqual([]);
    expect(r.s.pipeline).toEqual({
      microbatches: 2,
      schedule: "interleaved",
      virtualStages: 2,
      stages: [
        { first: "layer0.fc1", last: "layer0.fc2", devices: [0, 1, 2, 3] },
        { first: "layer0.res", last: "layer1.relu", devices: [6, 7] },
        { first: "layer1.fc2", last: "layer1.fc2", devices: [0, 1, 2, 3] },
        { first: "layer1.res", last: "loss", devices: [6, 7] },
      ],
    });
  });

  it("`recompute = true` applies to the matched ops that can be recomputed (not the loss)", () => {
    const r = resolve(`* : recompute = true\nlayer1.* : recompute = false`);
    expect(r.d.items).toEqual([]);
    expect(r.s.recompute).toEqual(["layer0.fc1", "layer0.relu", "layer0.fc2", "layer0.res"]);
    const loss = resolve(`loss : recompute = true`);
    expect(loss.codes).toEqual(["PAR3187"]);
    expect(loss.at).toEqual(["2:8"]);
  });

  it("prints the canonical form: settings, then the pipeline (`stages = p` when the even cut matches), then rules", () => {
    const r = resolve(`precision = bf16\nreplicas = 2, zero = 3\n* : sample = 2, recompute = true\npipeline(stages = 2, microbatches = 2)`);
    expect(r.d.items).toEqual([]);
    const mesh = scaleTestMesh(8);
    expect(strategyToPar(residualMlp(2), r.s, mesh)).toBe(`strategy s for resmlp on test1x8 {
  replicas = 2, offset = 4
  zero = 3
  precision = bf16
  pipeline(microbatches = 2, schedule = "1f1b", stages = 2)
  * : sample = 2, recompute = true
}
`);
    // Without the mesh, the printer cannot know the default device blocks: it lists the stages.
    expect(strategyToPar(residualMlp(2), r.s)).toBe(`strategy s for resmlp on test1x8 {
  replicas = 2, offset = 4
  zero = 3
  precision = bf16
  pipeline(microbatches = 2, schedule = "1f1b") {
    layer0.fc1 .. layer0.res : devices = 0..1
    layer1.fc1 .. loss : devices = 2..3
  }
  * : sample = 2, recompute = true
}
`);
    for (const withMesh of [true, false]) expect(roundTrip(residualMlp(2), r.s, mesh, withMesh)).toEqual(r.s);
  });

  it("par fmt keeps settings lines and pipelines where they are, with their comments (one after `{` moves below it)", () => {
    const text = `strategy s for m on p {
  # the data-parallel part
  replicas=2 ,offset=4  # Megatron order would be offset = 1
  * : sample = 2
  pipeline( microbatches=4,schedule="1f1b" ) {   # two stages
    a..b.c : devices=0..3
    # the rest
    "d e"
  }
}
`;
    const d = new Diagnostics();
    const program = parse(text, "s.par", d)!;
    expect(d.items).toEqual([]);
    expect(format(program)).toBe(`strategy s for m on p {
  # the data-parallel part
  replicas = 2, offset = 4  # Megatron order would be offset = 1
  * : sample = 2
  pipeline(microbatches = 4, schedule = "1f1b") {
    # two stages
    a .. b.c : devices = 0..3
    # the rest
    "d e"
  }
}
`);
  });

  it("property: Strategy → .par → parse → resolve is the identity with replicas, pipelines, ZeRO, recomputation and precision", () => {
    assertProperty(
      fc.property(arbGraph, fc.integer({ min: 1, max: 8 }), fc.integer(), fc.boolean(), (g, devices, seed, withMesh) => {
        const mesh = scaleTestMesh(devices);
        const s = { ...randomScaleStrategy(g, devices, seed), mesh: mesh.name };
        const d = new Diagnostics();
        validateStrategy(g, mesh, s, d);
        expect(d.items).toEqual([]);
        const back = roundTrip(g, s, mesh, withMesh);
        expect(back).toEqual(s);
        expect(strategyToPar(g, back, withMesh ? mesh : undefined)).toBe(strategyToPar(g, s, withMesh ? mesh : undefined));
      }),
      200,
    );
  });
});

void RES_OPS;
void mlp;
void testMesh;
