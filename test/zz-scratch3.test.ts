import { it } from "vitest";
import { parLexer } from "../grammar/tokens.js";
import { ParParser } from "../grammar/parser.js";
it("x", () => {
  const lines: string[] = [];
  for (let m = 0; lines.length < 10000; m++) {
    lines.push(`model m${m}(batch = 64, hidden = 1024) {  # model ${m}`);
    lines.push(`  input x : f32[batch, 784]`);
    for (let i = 0; i < 40; i++) lines.push(`  h${i} = relu(linear(h${i}, out = hidden * 2 + 1))  # layer ${i}`);
    lines.push(`  repeat 2 as layer { h = relu(linear(h, out = hidden)) }`);
    lines.push(`}`);
  }
  const src = lines.join("\n");
  const now = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
  const toks = parLexer.tokenize(src).tokens;
  const variants: [string, object][] = [["full", {}], ["noloc", { nodeLocationTracking: "none" }], ["norecov", { recoveryEnabled: false }], ["onlyOffset", { nodeLocationTracking: "onlyOffset" }]];
  for (const [name, over] of variants) {
    const p = new ParParser(over);
    const ts: number[] = [];
    for (let k = 0; k < 6; k++) { const t0 = now(); p.input = toks; p.program(); ts.push(now() - t0); }
    console.log(name, ts.map((t) => t.toFixed(0)).join(" "));
  }
});
