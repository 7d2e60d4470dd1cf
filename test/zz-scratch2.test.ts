import { it } from "vitest";
import { Diagnostics } from "../src/core/diagnostics.js";
import { parse } from "../src/frontend/parse.js";
import { parLexer } from "../grammar/tokens.js";
import { parParser } from "../grammar/parser.js";
it("x", () => {
  const lines: string[] = [];
  for (let m = 0; lines.length < 10000; m++) {
    lines.push(`model m${m}(batch = 64, hidden = 1024) {  # model ${m}`);
    lines.push(`  input x : f32[batch, 784]`);
    for (let i = 0; i < 40; i++) lines.push(`  h${i} = relu(linear(h${i}, out = hidden * 2 + 1))  # layer ${i}`);
    lines.push(`  repeat 2 as layer { h = relu(linear(h, out = hidden)) }`);
    lines.push(`}`);
    lines.push(`strategy s${m} for m${m} on p {`);
    for (let i = 0; i < 5; i++) lines.push(`  layer*.h${i}, "h_2" : sample = 4, devices = [0, 2, 4..7]`);
    lines.push(`}`);
  }
  const src = lines.join("\n");
  const now = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
  for (let k = 0; k < 8; k++) {
    const t0 = now();
    const lx = parLexer.tokenize(src);
    const t1 = now();
    parParser.input = lx.tokens;
    parParser.program();
    const t2 = now();
    const d = new Diagnostics();
    parse(src, "f", d);
    const t3 = now();
    console.log(`lex ${(t1 - t0).toFixed(1)} parse ${(t2 - t1).toFixed(1)} full ${(t3 - t2).toFixed(1)} errs ${d.items.length} tokens ${lx.tokens.length}`);
  }
});
