// The `.par` strategy examples for GPT-2 in docs/strategies.md and docs/language.md resolve
// without a diagnostic, and the JSON shown next to them is what par writes.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { builtinMesh } from "../../src/core/builtin-meshes.js";
import { Diagnostics } from "../../src/core/diagnostics.js";
import type { StrategyDecl } from "../../src/frontend/ast.js";
import { buildGraph } from "../../src/frontend/check.js";
import { parse } from "../../src/frontend/parse.js";
import { resolveStrategyDecl } from "../../src/frontend/strategy-par.js";
import { strategyToJson } from "../../src/ir/strategy-json.js";

const DOC = readFileSync(new URL("../../docs/strategies.md", import.meta.url), "utf8");
const LANGUAGE = readFileSync(new URL("../../docs/language.md", import.meta.url), "utf8");
const MODEL = readFileSync(new URL("../../models/gpt2_small.par", import.meta.url), "utf8");

/** Code blocks of the doc that are GPT-2 strategies. */
function gpt2Blocks(doc = DOC): string[] {
  return [...doc.matchAll(/```\n(strategy \w+ for gpt2_small on \w+ \{[\s\S]*?\n\})\n```/g)].map((m) => m[1]);
}

function resolve(block: string) {
  const d = new Diagnostics();
  const program = parse(`${MODEL}\n${block}\n`, "doc.par", d)!;
  const graph = buildGraph(program, "gpt2_small", {}, d)!;
  const decl = program.items.find((i): i is StrategyDecl => i.kind === "strategy")!;
  const strategy = resolveStrategyDecl(decl, graph, builtinMesh(decl.mesh)!, "doc.par", d);
  return { graph, strategy, d };
}

describe("docs/strategies.md", () => {
  it("its GPT-2 strategy examples resolve without diagnostics", () => {
    const blocks = gpt2Blocks();
    expect(blocks.length).toBeGreaterThanOrEqual(4);
    for (const b of blocks) expect(resolve(b).d.items, b).toEqual([]);
    const language = gpt2Blocks(LANGUAGE);
    expect(language.length).toBe(1);
    expect(resolve(language[0]).d.items).toEqual([]);
  });

  it("shows the JSON par writes for them", () => {
    const byName = new Map(gpt2Blocks().map((b) => [/strategy (\w+)/.exec(b)![1], resolve(b)]));
    const dp4 = byName.get("dp4")!;
    expect(strategyToJson(dp4.graph, dp4.strategy).replicas).toEqual({ count: 4, offset: 2 });
    const pp4 = byName.get("pp4")!;
    const first = strategyToJson(pp4.graph, pp4.strategy).pipeline!.stages[0];
    expect(DOC).toContain(`{ "ops": ${JSON.stringify(first.ops).replace(",", ", ")}, "devices": ${JSON.stringify(first.devices).replace(",", ", ")} }`);
    const ipp = byName.get("ipp")!;
    expect(ipp.strategy.pipeline!.stages.map((s) => s.devices.join())).toEqual(["0,1", "2,3", "4,5", "6,7", "0,1", "2,3", "4,5", "6,7"]);
    const ptdp = byName.get("ptdp")!;
    const json = JSON.parse(readFileSync(new URL("../../strategies/gpt2_small-ptdp-h100x64.json", import.meta.url), "utf8"));
    expect(strategyToJson(ptdp.graph, ptdp.strategy).pipeline).toEqual(json.pipeline);
  });
});
