import { it } from "vitest";
import { Diagnostics } from "../src/core/diagnostics.js";
import { parse } from "../src/frontend/parse.js";
import { check } from "../src/frontend/check.js";
it("perf", () => {
  const lines = ["model big(batch = 8) {", "  input x : f32[batch, 16]", "  input labels : i32[batch]", "  h = x"];
  for (let i = 0; i < 5000; i++) lines.push(`  h = relu(linear(h, out = 16))`, `  t${i} = add(h, x)`, );
  lines.push("  y = add(h, x)");
  for (let i = 0; i < 5000; i++) lines.push(`  y = add(y, t${i})`);
  lines.push("  loss = softmax_cross_entropy(y, labels)", "}");
  const text = lines.join("\n");
  const d = new Diagnostics();
  const p = parse(text, "big.par", d);
  for (let k = 0; k < 6; k++) {
    const t1 = performance.now();
    const c = check(p!, d);
    const t2 = performance.now();
    const g = c.models.get("big")!;
    const n = g.parameterCount();
    const t3 = performance.now();
    console.log("check", (t2 - t1).toFixed(0), "params", (t3 - t2).toFixed(0), g.ops.size, n, d.items.length);
  }
});
