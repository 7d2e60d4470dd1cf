import { it } from "vitest";
import { Diagnostics } from "../src/core/diagnostics.js";
import { parse } from "../src/frontend/parse.js";
import { generateLargeProgram } from "../bench/parse.js";
it("x", () => {
  const text = generateLargeProgram(10_000);
  const now = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
  const ts: number[] = [];
  for (let k = 0; k < 9; k++) { const t0 = now(); const d = new Diagnostics(); parse(text, "big.par", d); ts.push(now() - t0); if (d.items.length) console.log(d.items[0]); }
  console.log("PARSE", ts.map((t) => t.toFixed(0)).join(" "));
});
