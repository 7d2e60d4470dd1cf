// A guard against accidental slowdowns (quadratic recovery, per-token scans), not a
// benchmark: the bound is loose because the test machines are shared. `npm run bench`
// measures the real numbers (target: parse + check of 10,000 lines ≤ 200 ms).
import { expect, it } from "vitest";
import { Diagnostics } from "../../src/core/diagnostics.js";
import { parse } from "../../src/frontend/parse.js";

function bigProgram(lines: number): string {
  const out = ["model big(batch = 32, hidden = 64) {", "  input x : f32[batch, hidden]", "  h = x"];
  for (let i = 0; out.length < lines - 1; i++) {
    out.push(i % 2 === 0 ? `  h = relu(linear(h, out = hidden * 2 / 2))  # layer ${i}` : `  repeat 2 as r${i} { h = add(h, relu(h)) }`);
  }
  out.push("}");
  return out.join("\n") + "\n";
}

it("parses a 10,000-line file well within a second or two", () => {
  const text = bigProgram(10_000);
  parse(text, "warm.par", new Diagnostics());
  const t0 = performance.now();
  const d = new Diagnostics();
  const program = parse(text, "big.par", d);
  const ms = performance.now() - t0;
  expect(d.items).toEqual([]);
  expect(program?.items[0].kind === "model" && program.items[0].body.length).toBe(9_998);
  expect(ms).toBeLessThan(4000);
});
