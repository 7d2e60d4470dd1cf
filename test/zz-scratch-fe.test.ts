import { it } from "vitest";
import { Diagnostics, formatDiagnostic } from "../src/core/diagnostics.js";
import { parse } from "../src/frontend/parse.js";
import { format } from "../src/frontend/print.js";
it("x", () => {
  const src = `# top comment
model mlp(batch = 64, hidden = 1024, classes = 10) {
  input  x      : f32[batch, 784]          # dims
  input  labels : i32[batch]
  h = relu(linear(x, out = hidden))        # ops create their weights; nested calls allowed
  repeat 2 { h = relu(linear(h, out = hidden)) }     # repeat
  for i in 0..1 { h = mlp_block(h, width = hidden) } # for
  logits = linear(h, out = classes)
  loss   = softmax_cross_entropy(logits, labels)
}
block mlp_block(x, width = 16) {          # params
  y = linear(x, out = width)
  return relu(y)                          # ret
}
mesh p100x16 {                            # FlexFlow's P100 cluster
  node x 4 {                              # group
    device P100 x 4                       # catalog kind
    link nvlink(bandwidth = 20 GB/s, latency = 2 us)   # the link
  }
  link infiniband(bandwidth = 100 Gb/s, latency = 5 us) # among groups
}
strategy hybrid for mlp on p100x16 {
  *      : sample = 16                    # rules
  logits : sample = 4, channel = 4, devices = 0..15   # devices
  layer*.attn.qkv, "h_2" : channel = 2    # patterns
}
# end
`;
  const d = new Diagnostics();
  const p = parse(src, "a.par", d);
  for (const x of d.items) console.log(formatDiagnostic(x, src));
  console.log(format(p!));
  const bad = `model m(b: 4) {\n input x = f32[b]\n h = linear(x, out: 4)\n}\nstrategy s for m on p { a b : c = 1 }\nmodle q {}\nmodel z { y = relu(x) `;
  const d2 = new Diagnostics();
  parse(bad, "b.par", d2);
  for (const x of d2.items) console.log(formatDiagnostic(x, bad));
});
