import { it } from "vitest";
import { conv1d, conv3d, conv2d } from "../src/ops/conv.js";
import { cpuVersusWasm } from "./ops/backend-agreement.js";
import { resolveAttrs } from "../src/ops/attrs.js";
import { Diagnostics } from "../src/core/diagnostics.js";
const f32 = (...shape: number[]) => ({ dtype: "f32" as const, shape, dims: shape.map((_, i) => `d${i}`) });
it("dbg", async () => {
  const cases: [any, any, any][] = [
      [conv1d, f32(2, 4, 11), { out: 6, kernel: [3], stride: [2], padding: [2], dilation: [2], groups: 2 }],
      [conv3d, f32(1, 2, 4, 6, 6), { out: 3, kernel: [2, 3, 3], stride: [1, 2, 2], padding: [1], padding_end: [0, 1, 1] }],
      [conv3d, f32(1, 2, 4, 6, 6), { out: 3, kernel: [2, 3, 3], stride: [1, 1, 1], padding: [1] }],
      [conv3d, f32(1, 2, 4, 6, 6), { out: 3, kernel: [2, 3, 3], stride: [1, 2, 2] }],
      [conv3d, f32(1, 2, 4, 6, 6), { out: 3, kernel: [1, 1, 1] }],
      [conv3d, f32(1, 2, 4, 6, 6), { out: 3, kernel: [2, 2, 2] }],
      [conv3d, f32(1, 4, 3, 5, 5), { out: 4, kernel: [3], groups: 4, dilation: [1, 2, 2], padding: [1, 2, 2] }],
  ];
  for (const [e, x, g] of cases) {
    const a = resolveAttrs(e, g, { opName: "p", diagnostics: new Diagnostics() })!;
    console.log("CASE", e.name, JSON.stringify(g), JSON.stringify((await cpuVersusWasm(e, [x], a)).map((c) => c.where)));
  }
});
