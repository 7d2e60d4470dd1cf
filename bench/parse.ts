// Parse + check time for a generated 10,000-line .par file (issue target: ≤ 200 ms).
import { Diagnostics } from "../src/core/diagnostics.js";
import { check } from "../src/frontend/check.js";
import { parse } from "../src/frontend/parse.js";
import { measure } from "./stats.js";

/** A model of `lines` lines: blocks, repeats, nested calls and a mesh + strategy. */
export function generateLargeProgram(lines: number): string {
  const out: string[] = [
    "# generated for the parse benchmark",
    "block mlp_block(x, width) {",
    "  y = linear(x, out = width)",
    "  return relu(add(y, y))",
    "}",
    "mesh bench_mesh {",
    "  node x 2 {",
    "    device V100 x 4",
    "    link nvlink(bandwidth = 25 GB/s, latency = 2 us)",
    "  }",
    "  link infiniband(bandwidth = 100 Gb/s, latency = 5 us)",
    "}",
    "model big(batch = 32, hidden = 64) {",
    "  input x : f32[batch, hidden]",
    "  input labels : i32[batch]",
    "  h = x",
  ];
  const tail = ["  logits = linear(h, out = 10)", "  loss = softmax_cross_entropy(logits, labels)", "}", "strategy dp for big on bench_mesh {", "  * : sample = 8", "}"];
  let i = 0;
  while (out.length + tail.length < lines) {
    const kind = i % 4;
    if (kind === 0) out.push(`  h = relu(linear(h, out = hidden))  # layer ${i}`);
    else if (kind === 1) out.push(`  h = mlp_block(h, hidden)`);
    else if (kind === 2) out.push(`  g${i} = add(h, relu(h))`, `  h = linear(g${i}, out = hidden * 2 / 2)`);
    else out.push(`  h = relu(h)`);
    i++;
  }
  return [...out, ...tail].join("\n") + "\n";
}

export async function parseBench(): Promise<string> {
  const text = generateLargeProgram(10_000);
  const lines = text.split("\n").length - 1;
  let ops = 0;
  let errors = 0;
  const parseMs = measure(() => {
    parse(text, "big.par", new Diagnostics());
  });
  const totalMs = measure(() => {
    const d = new Diagnostics();
    const p = parse(text, "big.par", d);
    if (p) {
      const checked = check(p, d);
      ops = checked.models.get("big")?.ops.size ?? 0;
    }
    errors = d.errors.length;
  });
  return [
    `file: ${lines} lines, ${ops} ops, ${errors} errors`,
    `parse:          ${parseMs.toFixed(1)} ms (median of 7)`,
    `parse + check:  ${totalMs.toFixed(1)} ms (median of 7)   target ≤ 200 ms: ${totalMs <= 200 ? "met" : "NOT met"}`,
    `check share:    ${((100 * (totalMs - parseMs)) / totalMs).toFixed(0)} %`,
  ].join("\n");
}
