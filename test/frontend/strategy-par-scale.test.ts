// `.par` strategies with the large-scale items: strategy-wide settings (replicas, ZeRO,
// precision), pipelines (even and explicit stages), `recompute` rules; resolution with
// positioned diagnostics, canonical printing, and the round trip on random strategies.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Diagnostics } from "../../src/core/diagnostics.js";
import type { Mesh } from "../../src/core/mesh.js";
import type { StrategyDecl } from "../../src/frontend/ast.js";
import { check } from "../../src/frontend/check.js";
import { parse } from "../../src/frontend/parse.js";
import { format } from "../../src/frontend/print.js";
import { resolveStrategyDecl, strategyToPar } from "../../src/frontend/strategy-par.js";
import type { Graph } from "../../src/ir/graph.js";
import { validateStrategy } from "../../src/ir/strategy-validate.js";
import type { Strategy } from "../../src/ir/strategy.js";
import { assertProperty } from "../support/property.js";
import { arbGraph, residualMlp, testMesh } from "../ir/fixtures.js";
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

// residualMlp(2): x → layer0.{fc1, relu, fc2, res} → layer1.{fc1, relu, fc2, res} → loss (batch 8),
// resolved on 8 devices by default.

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

describe(".par strategies: large-scale diagnostics at the setting that caused them", () => {
  it("PAR3190: unknown keys, with a did-you-mean or where the key belongs", () => {
    const r = resolve(`replica = 2`);
    expect(r.codes).toEqual(["PAR3190"]);
    expect(r.messages[0]).toBe("`replica` is not a strategy-wide setting");
    expect(r.d.items[0].hint).toBe("did you mean `replicas`?");
    expect(r.at).toEqual(["2:1"]);
    const misplaced = resolve(`microbatches = 4`);
    expect(misplaced.d.items[0].hint).toBe("`microbatches` is a pipeline setting: `pipeline(microbatches = 8, ...)`");
    const inPipeline = resolve(`pipeline(microbatches = 2, stages = 2, zero = 1)`);
    expect(inPipeline.codes).toEqual(["PAR3190"]);
    expect(inPipeline.d.items[0].hint).toMatch(/strategy-wide setting/);
    expect(resolve(`pipeline(microbatches = 2) { layer0.fc1 .. loss : devies = 0 }`).codes).toEqual(["PAR3190"]);
  });

  it("PAR3191: a setting given twice in one strategy, or a second pipeline", () => {
    const r = resolve(`zero = 1\nreplicas = 2, zero = 2`);
    expect(r.codes).toEqual(["PAR3191"]);
    expect(r.at).toEqual(["3:15"]);
    expect(r.d.items[0].hint).toBe("it is first set at line 2");
    expect(resolve(`pipeline(microbatches = 2, stages = 1)\npipeline(microbatches = 2, stages = 1)`).codes).toEqual(["PAR3191"]);
  });

  it("PAR3192: values of the wrong kind or an unknown name, with a did-you-mean", () => {
    expect(resolve(`zero = "one"`).codes).toEqual(["PAR3192"]);
    // An integer setting may use model parameters, so an unknown name is an undefined name.
    expect(resolve(`zero = bf16`).codes).toEqual(["PAR2001"]);
    const p = resolve(`precision = bf_16`);
    expect(p.codes).toEqual(["PAR3192"]);
    expect(p.messages[0]).toBe("unknown precision `bf_16`");
    expect(p.d.items[0].hint).toBe("did you mean `bf16`?");
    expect(resolve(`pipeline(microbatches = 2, stages = 1, schedule = pipedream)`).codes).toEqual(["PAR3192"]);
    expect(resolve(`pipeline(microbatches = 2, stages = 1, schedule = 3)`).codes).toEqual(["PAR3192"]);
    expect(resolve(`* : recompute = 1`).codes).toEqual(["PAR3192"]);
    // A schedule may be a name or a string; 1f1b only a string, and the lexer says so.
    expect(resolve(`pipeline(microbatches = 2, stages = 1, schedule = "gpipe")`).s.pipeline?.schedule).toBe("gpipe");
    const d = new Diagnostics();
    parse(`strategy s for m on p {\n  pipeline(microbatches = 2, stages = 1, schedule = 1f1b)\n}`, "s.par", d);
    expect(d.items.map((x) => [x.code, x.hint])).toEqual([["PAR1005", 'the 1F1B pipeline schedule is written as a string: `schedule = "1f1b"`']]);
    const eq = new Diagnostics();
    parse(`strategy s for m on p {\n  logits = sample = 4\n}`, "s.par", eq);
    expect(eq.items[0].hint).toMatch(/a strategy-wide setting is `name = value`/);
  });

  it("PAR3193: a stage bound is an op name, not a glob; PAR3165: nor an unknown name", () => {
    const glob = resolve(`pipeline(microbatches = 2) { layer0.* .. loss }`);
    expect(glob.codes).toEqual(["PAR3193"]);
    expect(glob.at).toEqual(["2:30"]);
    const unknown = resolve(`pipeline(microbatches = 2) { layer0.fc1 .. los }`);
    expect(unknown.codes).toEqual(["PAR3165"]);
    expect(unknown.d.items[0].hint).toBe("did you mean `loss`?");
    expect(unknown.at).toEqual(["2:44"]);
  });

  it("PAR3194: the stages must be given once, and an even cut must fit the ops and devices", () => {
    const none = resolve(`pipeline(microbatches = 2)`);
    expect(none.codes).toEqual(["PAR3194"]);
    expect(none.messages[0]).toBe("the pipeline has no stages");
    expect(resolve(`pipeline(microbatches = 2, stages = 2) { layer0.fc1 .. loss }`).codes).toEqual(["PAR3194"]);
    const many = resolve(`pipeline(microbatches = 2, stages = 10)`);
    expect(many.messages).toEqual(["`stages = 10`, but the model has 9 ops"]);
    const blocks = resolve(`pipeline(microbatches = 2, stages = 3)`);
    expect(blocks.messages).toEqual(["`stages = 3` needs equal device groups, but replica 0's 8 devices do not split into 3 equal device groups"]);
    expect(blocks.at).toEqual(["2:28"]);
    expect(resolve(`pipeline(microbatches = 2, balance = params) { layer0.fc1 .. loss }`).codes).toEqual(["PAR3194"]);
    expect(resolve(`pipeline(microbatches = 2) { }`).codes).toEqual(["PAR3194"]);
    const noDevices = resolve(`pipeline(microbatches = 2) { layer0.fc1 .. layer0.res\n layer1.fc1 .. layer1.res\n loss }`);
    expect(noDevices.codes).toEqual(["PAR3194", "PAR3194", "PAR3194"]);
    expect(noDevices.messages[0]).toBe("stage 0 has no `devices`, and replica 0's 8 devices do not split into 3 equal device groups");
    expect(resolve(`pipeline(stages = 0, microbatches = 2)`).codes).toEqual(["PAR3194"]);
  });

  it("PAR3195: an op with more tasks than its stage has devices needs `devices`", () => {
    const r = resolve(`pipeline(microbatches = 1, stages = 4)\n* : sample = 4`);
    expect(r.codes).toEqual(["PAR3195"]);
    expect(r.messages[0]).toMatch(/^op `layer0.fc1` has 4 tasks but no `devices`, and stage 0 has only 2 devices to put them on \(the same for \d more ops/);
    expect(r.at).toEqual(["3:5"]);
    const rep = resolve(`replicas = 4\nlayer0.fc1 : sample = 2, channel = 2`);
    expect(rep.codes).toEqual(["PAR3195"]);
    expect(rep.messages[0]).toBe("op `layer0.fc1` has 4 tasks but no `devices`, and replica 0 has only 2 devices to put them on");
  });

  it("PAR3181, PAR3184, PAR3175, PAR3177: values out of range, at the value", () => {
    expect(resolve(`replicas = 0`).codes).toEqual(["PAR3181"]);
    expect(resolve(`replicas = 3`).messages).toEqual(["the 8 devices of mesh `test1x8` do not split into 3 equal blocks of replicas"]);
    expect(resolve(`offset = 2`).codes).toEqual(["PAR3181"]);
    const z = resolve(`zero = 5`);
    expect(z.codes).toEqual(["PAR3184"]);
    expect(z.at).toEqual(["2:8"]);
    expect(resolve(`pipeline(microbatches = 0, stages = 1)`).codes).toEqual(["PAR3175"]);
    const missing = resolve(`pipeline(stages = 1)`);
    expect(missing.codes).toEqual(["PAR3175"]);
    expect(missing.messages).toEqual(["the pipeline needs a micro-batch count"]);
    expect(resolve(`pipeline(microbatches = 1, stages = 1, virtual = 0)`).codes).toEqual(["PAR3177"]);
  });

  it("validation problems point at the setting behind them", () => {
    // PAR3180 at the degree; PAR3179 at the micro-batch count.
    const deg = resolve(`pipeline(microbatches = 4, stages = 2)\nlayer1.fc1 : sample = 4`);
    expect(deg.codes).toEqual(["PAR3180"]);
    expect(deg.at).toEqual(["3:14"]);
    const uneven = resolve(`pipeline(microbatches = 3, stages = 2)`);
    expect(uneven.codes).toEqual(["PAR3179"]);
    expect(uneven.at).toEqual(["2:10"]);
    // PAR3169 at the op's devices; PAR3168 at the stage's.
    const outside = resolve(`pipeline(microbatches = 2, stages = 2)\nloss : devices = 0`);
    expect(outside.codes).toEqual(["PAR3169"]);
    expect(outside.at).toEqual(["3:8"]);
    const shared = resolve(`pipeline(microbatches = 2) {\n  layer0.fc1 .. layer0.res : devices = 0..3\n  layer1.fc1 .. loss : devices = 3..4\n}`);
    expect(shared.codes).toEqual(["PAR3168"]);
    expect(shared.at).toEqual(["4:24"]);
    const gap = resolve(`pipeline(microbatches = 2) {\n  layer0.fc1 .. layer0.res : devices = 0\n  layer1.relu .. loss : devices = 1\n}`);
    expect(gap.codes).toEqual(["PAR3166"]);
    expect(gap.at).toEqual(["4:3"]);
    // PAR3178 and PAR3177 at the pipeline settings.
    const rounds = resolve(`pipeline(microbatches = 2, schedule = interleaved, virtual = 2, stages = 8)`);
    expect(rounds.codes).toEqual(["PAR3178"]);
    expect(rounds.at).toEqual(["2:10"]);
    const v = resolve(`pipeline(microbatches = 4, schedule = interleaved, stages = 2)`);
    expect(v.codes).toEqual(["PAR3177"]);
    expect(v.at).toEqual(["2:28"]);
    // PAR3182 and PAR3183 at the replica settings.
    const leave = resolve(`replicas = 2, offset = 6\n* : devices = 2`);
    expect(leave.codes).toEqual(["PAR3182"]);
    expect(leave.at).toEqual(["2:1"]);
    const clash = resolve(`replicas = 2, offset = 2\n* : devices = 0..3, sample = 4`);
    expect(clash.codes).toEqual(["PAR3183"]);
    expect(clash.at).toEqual(["2:15"]);
    // PAR3185 at `zero`; PAR3189 at `precision`.
    const zero = resolve(`zero = 2`);
    expect(zero.codes).toEqual(["PAR3185"]);
    expect(zero.at).toEqual(["2:1"]);
    const k80 = resolve(`precision = f16`, residualMlp(2), testMesh(1, 2));
    expect(k80.codes).toEqual(["PAR3189"]);
    expect(k80.at).toEqual(["2:1"]);
  });
});

describe("the checker (par check) on large-scale items, by reference", () => {
  const MODEL = `model m(batch = 8) {
  input x : f32[batch, 4]
  input y : i32[batch]
  h = relu(linear(x, out = 4))
  loss = softmax_cross_entropy(linear(h, out = 3), y)
}
`;
  function checked(body: string) {
    const d = new Diagnostics();
    const program = parse(`${MODEL}strategy s for m on p100x16 {\n${body}\n}\n`, "c.par", d)!;
    check(program, d);
    return { codes: d.items.map((x) => x.code), messages: d.items.map((x) => x.message), at: d.items.map((x) => `${x.pos?.line}:${x.pos?.column}`), d };
  }

  it("accepts valid settings, pipelines and recompute rules", () => {
    const ok = checked(`replicas = 2, offset = 8\nzero = 1\nprecision = f16\npipeline(microbatches = (batch / 4), schedule = "1f1b") { h.linear .. h : devices = 0..3; "loss.linear" .. loss }\nh : recompute = true`);
    expect(ok.d.items).toEqual([]);
  });

  it("reports unknown keys, wrong values, stage bounds that are no ops, devices outside the mesh", () => {
    const r = checked(`replicas = 2, ofset = 8\nzero = 7\npipeline(microbatches = 2, sched = gpipe) {\n  h.linear .. hh : devices = 0..16\n  h* .. loss\n}\npipeline(microbatches = 1, stages = 1)\nh : recompute = yes`);
    // Rules first, then the settings and pipelines.
    expect(r.codes).toEqual(["PAR3192", "PAR3190", "PAR3184", "PAR3190", "PAR3165", "PAR3157", "PAR3193", "PAR3191"]);
    expect(r.d.items[1].hint).toBe("did you mean `offset`?");
    expect(r.at[4]).toBe("11:15");
    expect(r.d.items[4].hint).toBe("did you mean `h`?");
  });
});
