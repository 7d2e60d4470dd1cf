// The example strategies in strategies/: baselines of a zoo model on a built-in mesh, and a
// hand-written large-scale strategy (pipeline, replicas, ZeRO, recomputation, precision)
// given below in its `.par` form. Each must validate and equal what its source makes today
// (a golden test). Regenerate after an intended change with:
//   PAR_WRITE_STRATEGIES=1 npx vitest run test/ir/strategy-examples.test.ts
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { builtinMesh } from "../../src/core/builtin-meshes.js";
import { Diagnostics } from "../../src/core/diagnostics.js";
import { buildGraph } from "../../src/frontend/check.js";
import { parse } from "../../src/frontend/parse.js";
import { baseline, type BaselineKind } from "../../src/ir/baselines.js";
import type { Graph } from "../../src/ir/graph.js";
import { strategyFromJsonText, strategyJsonText, writeStrategyFile } from "../../src/ir/strategy-json.js";
import { resolveStrategyDecl, strategyToPar } from "../../src/frontend/strategy-par.js";
import { validateStrategy } from "../../src/ir/strategy-validate.js";
import type { StrategyDecl } from "../../src/frontend/ast.js";

const EXAMPLES: { model: string; kind: BaselineKind; mesh: string }[] = [
  { model: "mlp", kind: "dp", mesh: "p100x16" },
  { model: "mlp", kind: "mp", mesh: "p100x16" },
  { model: "mlp", kind: "expert", mesh: "p100x16" },
  { model: "mlp", kind: "megatron", mesh: "p100x16" },
];

/**
 * GPT-2 small on 64 H100s as Megatron-LM would run it: 4-way tensor parallelism inside each
 * pipeline stage (sequence-parallel norms and element-wise ops, vocabulary-parallel embedding
 * and LM head), 4 pipeline stages cut at layer boundaries (the tied LM head, about four
 * layers' FLOPs with GPT-2's vocabulary, gets a stage of its own), each on its default
 * block of 4 devices, 4 data-parallel replicas in Megatron's rank order (4 devices apart),
 * ZeRO-1, bf16, attention recomputed.
 */
const GPT2_PTDP = `strategy ptdp for gpt2_small on h100x64 {
  replicas = 4, offset = 4
  zero = 1
  precision = bf16
  pipeline(microbatches = 8, schedule = "1f1b") {
    wte .. layer3.h
    layer4.h.attn.layernorm .. layer7.h
    layer8.h.attn.layernorm .. layer11.h
    out .. loss
  }
  * : length = 4
  wte, wpe : rows = 4
  layer*.h.attn.attention : length = 1, heads = 4, recompute = true
  layer*.h.attn : recompute = true
  layer*.h.up.linear : length = 1, channel = 4
  layer*.h.linear : length = 1, in_channel = 4
  logits : cols = 4
}
`;

function zooGraph(model: string): Graph {
  const file = `models/${model}.par`;
  const d = new Diagnostics();
  const program = parse(readFileSync(new URL(`../../${file}`, import.meta.url), "utf8"), file, d);
  const g = program && buildGraph(program, model, {}, d);
  if (!g || d.hasErrors()) throw new Error(`${file}: ${d.items.map((x) => `${x.code} ${x.message}`).join("; ")}`);
  return g;
}

describe("example strategies in strategies/", () => {
  it("strategies/gpt2_small-ptdp-h100x64.json is the .par strategy above (format v2), validates, and round-trips", () => {
    const file = "strategies/gpt2_small-ptdp-h100x64.json";
    const g = zooGraph("gpt2_small");
    const mesh = builtinMesh("h100x64")!;
    const d = new Diagnostics();
    const program = parse(GPT2_PTDP, "ptdp.par", d);
    const decl = program?.items.find((i): i is StrategyDecl => i.kind === "strategy");
    const s = resolveStrategyDecl(decl!, g, mesh, "ptdp.par", d);
    expect(d.items).toEqual([]);
    const url = new URL(`../../${file}`, import.meta.url);
    if (process.env.PAR_WRITE_STRATEGIES === "1") writeStrategyFile(url.pathname, g, s);
    const text = readFileSync(url, "utf8");
    expect(text).toBe(strategyJsonText(g, s));
    expect(JSON.parse(text).version).toBe(2);
    const read = strategyFromJsonText(g, text, file, d)!;
    expect(read).toEqual(s);
    expect(validateStrategy(g, mesh, read, d)).toBe(true);
    expect(d.items).toEqual([]);
    // The canonical print is the source, and resolves back to the same strategy.
    expect(strategyToPar(g, read, mesh)).toBe(GPT2_PTDP);
    expect(s.pipeline!.stages.map((st) => [st.first, st.last, st.devices.join()])).toEqual([
      ["wte", "layer3.h", "0,1,2,3"],
      ["layer4.h.attn.layernorm", "layer7.h", "16,17,18,19"],
      ["layer8.h.attn.layernorm", "layer11.h", "32,33,34,35"],
      ["out", "loss", "48,49,50,51"],
    ]);
  });

  for (const ex of EXAMPLES) {
    const file = `strategies/${ex.model}-${ex.kind}-${ex.mesh}.json`;
    it(`${file} is the ${ex.kind} baseline, validates, and round-trips through .par`, () => {
      const g = zooGraph(ex.model);
      const mesh = builtinMesh(ex.mesh)!;
      const s = baseline(ex.kind, g, mesh);
      const url = new URL(`../../${file}`, import.meta.url);
      if (process.env.PAR_WRITE_STRATEGIES === "1") writeStrategyFile(url.pathname, g, s);
      const text = readFileSync(url, "utf8");
      expect(text).toBe(strategyJsonText(g, s));
      const d = new Diagnostics();
      const read = strategyFromJsonText(g, text, file, d)!;
      expect(validateStrategy(g, mesh, read, d)).toBe(true);
      expect(d.items).toEqual([]);
      const par = strategyToPar(g, read);
      const program = parse(par, "s.par", d);
      const decl = program?.items.find((i): i is StrategyDecl => i.kind === "strategy");
      expect(resolveStrategyDecl(decl!, g, mesh, "s.par", d)).toEqual(read);
      expect(d.items).toEqual([]);
    });
  }
});
