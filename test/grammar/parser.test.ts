import { readFileSync } from "node:fs";
import type { CstNode, IToken } from "chevrotain";
import { describe, expect, it } from "vitest";
import { generatedCstDts, generatedDiagramsHtml } from "../../grammar/generate.js";
import { parParser } from "../../grammar/parser.js";
import { parLexer } from "../../grammar/tokens.js";

/** One program that uses every construct of the language. */
const ALL_RULES = `
model mlp(batch = 64, hidden) {
  input x : f32[batch, tokens: 2 * batch]
  h = relu(linear(x, out = -hidden + 1 // 2 % 3, scale = 0.5, tag = "a", yes = true, no = false))
  a, b = split(h, parts = [1, 2], axis = (1))
  repeat 2 as layer { h = relu(h) }
  for i in 0..1 { h = f(h, k = i) }
  ;
}
block blk(x, width = 16) { return relu(x), x }
mesh m {
  node x 2 { device P100 x 4; link nv(bandwidth = 20 GB/s) }
  device g(memory = 16 GiB)
  link ib
}
strategy s for mlp on m { *.h?.0.1.5, "q" : sample = 4, devices = 0..3
  replicas = 2, offset = 4
  pipeline(microbatches = 4, schedule = "1f1b") { x .. "q" : devices = 0..1; h }
}
;
`;

function ruleNames(node: CstNode, out = new Set<string>()): Set<string> {
  out.add(node.name);
  for (const children of Object.values(node.children)) for (const c of children as (CstNode | IToken)[]) if ("children" in c) ruleNames(c, out);
  return out;
}

describe("grammar", () => {
  it("the sample program exercises every grammar rule without errors", () => {
    parParser.input = parLexer.tokenize(ALL_RULES).tokens;
    parParser.source = ALL_RULES;
    const cst = parParser.program();
    expect(parParser.errors).toEqual([]);
    const all = Object.keys(parParser.getGAstProductions()).sort();
    expect([...ruleNames(cst)].sort()).toEqual(all);
  });

  it("reuses one parser: a second input resets its state", () => {
    parParser.input = parLexer.tokenize("model m {").tokens;
    parParser.program();
    expect(parParser.errors.length).toBeGreaterThan(0);
    parParser.input = parLexer.tokenize("model m { }").tokens;
    parParser.program();
    expect(parParser.errors).toEqual([]);
  });

  it("grammar/cst.d.ts and docs/grammar-diagrams.html are up to date (regenerate: npm run docs:diagrams)", () => {
    expect(readFileSync(new URL("../../grammar/cst.d.ts", import.meta.url), "utf8")).toBe(generatedCstDts());
    const html = readFileSync(new URL("../../docs/grammar-diagrams.html", import.meta.url), "utf8");
    expect(html).toBe(generatedDiagramsHtml());
    expect(html).toContain("strategyDecl");
  });
});
