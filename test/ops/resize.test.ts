// resize: torch's interpolate values, how each spatial axis splits (input blocks when
// upsampling by an integer, strided windows when downsampling, whole otherwise), and
// sharded equals whole on cpu and wasm.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import type { Attrs, TF } from "../../src/ops/contract.js";
import { resize } from "../../src/ops/resize.js";
import { taskRegions } from "../../src/ops/regions.js";
import { BACKENDS, useBackend } from "../support/tf.js";
import { assertProperty, degreeFor } from "../support/property.js";
import { checkShardedEqualsWhole, shardFlops, wholeShard } from "../support/sharded.js";
import { cpuVersusWasm } from "./backend-agreement.js";
import { dimSummary, errorCodes, f32, resolved, sigOf } from "./_ops-b-helpers.js";

/** x = sin(1.3·i) over [1, 1, 3, 4], as in the torch reference. */
const X = Array.from({ length: 12 }, (_, i) => Math.sin(i * 1.3));

describe("resize: shapes, maps, FLOPs, diagnostics", () => {
  it("upsampling by an integer splits input blocks: the output a block map, the input a window with a halo", () => {
    const sig = sigOf(resize, [f32(2, 3, 8, 8)], { size: [16, 16], mode: "linear", coordinate: "pytorch_half_pixel" });
    expect(sig.outputs[0].shape).toEqual([2, 3, 16, 16]);
    expect(dimSummary(sig)).toEqual(["sample:sample:2", "channel:attribute:3", "height:attribute:8", "width:attribute:8"]);
    expect(sig.outputMaps[0][2]).toEqual({ kind: "block", dim: 2, blockSize: 2 });
    // Bilinear taps of block i reach inputs i − 1 … i + 1.
    expect(sig.inputMaps[0][2]).toEqual({ kind: "window", dim: 2, stride: 1, dilation: 1, kernel: 3, padLo: 1, size: 8 });
    const r = taskRegions(sig, [[2, 3, 8, 8]], { lo: [0, 0, 2, 0], hi: [2, 3, 5, 8] });
    expect(r.inputs[0]).toEqual({ lo: [0, 0, 1, 0], hi: [2, 3, 6, 8] });
    expect(r.outputs[0]).toEqual({ lo: [0, 0, 4, 0], hi: [2, 3, 10, 16] });
    // Nearest (asymmetric, floor) reads only its own input.
    const near = sigOf(resize, [f32(1, 1, 4)], { size: [12], coordinate: "asymmetric", nearest_mode: "floor" });
    expect(near.inputMaps[0][2]).toMatchObject({ kind: "window", kernel: 1, padLo: 0 });
  });

  it("downsampling by an integer is a strided window; other factors leave the axis whole", () => {
    const down = sigOf(resize, [f32(1, 1, 8)], { size: [4], mode: "linear" });
    expect(down.space[2]).toMatchObject({ size: 4 });
    expect(down.inputMaps[0][2]).toMatchObject({ kind: "window", stride: 2 });
    const odd = sigOf(resize, [f32(1, 1, 5, 4)], { size: [12, 4], mode: "linear" });
    expect(odd.space.map((d) => d.splittable ?? true)).toEqual([true, true, false, true]);
    expect(odd.inputMaps[0][2]).toEqual({ kind: "full" });
  });

  it("FLOPs: per output element, linear in the extents", () => {
    const sig = sigOf(resize, [f32(2, 3, 4, 4)], { size: [8, 8], mode: "linear" });
    expect(sig.flops([2, 3, 4, 4])).toEqual({ forward: 6 * 2 * 3 * 64, backward: 6 * 2 * 3 * 64 });
    expect(shardFlops(sig, [2, 3, 2, 3])).toEqual(sig.flops([2, 3, 4, 4]));
  });

  it("rejects sizes that do not name every spatial axis, and non-positive scales", () => {
    expect(errorCodes(resize, [f32(1, 1, 4, 4)], { size: [8] })).toEqual(["PAR2110"]);
    expect(errorCodes(resize, [f32(4)], { size: [8] })).toEqual(["PAR2110"]);
    expect(errorCodes(resize, [f32(1, 1, 4)], { size: [8], scale: [0] })).toEqual(["PAR2104"]);
    expect(errorCodes(resize, [f32(1, 1, 4)], { size: [8], mode: "cubic" })).toEqual(["PAR2104"]);
  });
});

for (const backend of BACKENDS) {
  describe(`resize on ${backend}`, () => {
    let tf: TF;
    beforeAll(async () => {
      tf = await useBackend(backend);
    });

    const run = (data: number[], shape: number[], given: Attrs): number[] => {
      const a = resolved(resize, given);
      const sig = sigOf(resize, [f32(...shape)], given);
      return Array.from(resize.forward(tf, { inputs: [tf.tensor(data, shape)], params: [], attrs: a, sig, shard: wholeShard(sig, [f32(...shape)]) })[0].dataSync());
    };
    const near = (got: number[], want: number[]) => {
      expect(got.length).toBe(want.length);
      got.forEach((v, i) => expect(v).toBeCloseTo(want[i], 4));
    };

    it("computes torch's F.interpolate (nearest, bilinear with and without align_corners, sizes, linear downsampling)", () => {
      const up = run(X, [1, 1, 3, 4], { size: [6, 8], coordinate: "asymmetric", nearest_mode: "floor" });
      near(up.slice(0, 8), [0.0, 0.0, 0.96356, 0.96356, 0.5155, 0.5155, -0.68777, -0.68777]);
      near(up.slice(40), [-0.82783, -0.82783, -0.76198, -0.76198, 0.42017, 0.42017, 0.98677, 0.98677]);
      const bilinear = run(X, [1, 1, 3, 4], { size: [6, 8], mode: "linear", coordinate: "pytorch_half_pixel" });
      near(bilinear.slice(0, 16), [0.0, 0.24089, 0.72267, 0.85154, 0.62752, 0.21468, -0.38695, -0.68777, -0.22086, 0.02846, 0.52712, 0.7414, 0.67131, 0.36818, -0.16797, -0.43605]);
      near(bilinear.slice(40), [-0.82783, -0.81137, -0.77844, -0.46645, 0.12463, 0.56182, 0.84512, 0.98677]);
      const corners = run(X, [1, 1, 3, 4], { size: [5, 7], mode: "linear", coordinate: "align_corners" });
      near(corners.slice(0, 14), [0.0, 0.48178, 0.96356, 0.73953, 0.5155, -0.08613, -0.68777, -0.44173, 0.07381, 0.58934, 0.67318, 0.75702, 0.28634, -0.18433]);
      const sized = run(X, [1, 1, 3, 4], { size: [5, 7], coordinate: "asymmetric", nearest_mode: "floor" });
      near(sized.slice(0, 14), [0.0, 0.0, 0.96356, 0.96356, 0.5155, 0.5155, -0.68777, 0.0, 0.0, 0.96356, 0.96356, 0.5155, 0.5155, -0.68777]);
      const y = Array.from({ length: 8 }, (_, i) => Math.cos(i * 0.7));
      near(run(y, [1, 1, 8], { size: [4], mode: "linear", coordinate: "pytorch_half_pixel" }), [0.88242, -0.16744, -0.93934, -0.15187]);
    });

    it("sharded equals whole (forward and backward), every mode, coordinate and factor", () => {
      const arb = fc
        .record({
          n: fc.integer({ min: 1, max: 3 }), sizes: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 3, maxLength: 3 }), factors: fc.array(fc.constantFrom(0.5, 1, 2, 3, 1.5), { minLength: 3, maxLength: 3 }),
          mode: fc.constantFrom("nearest", "linear"), coordinate: fc.constantFrom("half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric"),
          nearest: fc.constantFrom("round_prefer_floor", "round_prefer_ceil", "floor", "ceil"), seed: fc.nat(),
        })
        .chain((c) => {
          const spatial = c.sizes.slice(0, c.n);
          const size = spatial.map((L, a) => Math.max(1, Math.floor(L * c.factors[a])));
          const given = { size, mode: c.mode, coordinate: c.coordinate, nearest_mode: c.nearest };
          const x = f32(2, 2, ...spatial);
          const sig = sigOf(resize, [x], given);
          return fc.tuple(fc.constant({ x, a: resolved(resize, given), seed: c.seed }), fc.tuple(...sig.space.map((d) => (d.splittable === false ? fc.constant(1) : degreeFor(d.size, 3)))));
        });
      assertProperty(
        fc.property(arb, ([c, degrees]) => {
          const res = checkShardedEqualsWhole(tf, { entry: resize, inputs: [c.x], attrs: c.a, degrees, seed: c.seed });
          expect(res.comparisons.filter((x) => !x.ok)).toEqual([]);
        }),
        40,
      );
    });
  });
}

describe("resize: wasm agrees with cpu", () => {
  it("bilinear upsampling, trilinear, nearest with sizes", async () => {
    const cases: [ReturnType<typeof f32>, Attrs][] = [
      [f32(2, 3, 4, 5), { size: [8, 10], mode: "linear", coordinate: "pytorch_half_pixel" }],
      [f32(1, 2, 2, 3, 3), { size: [4, 6, 6], mode: "linear", coordinate: "half_pixel" }],
      [f32(1, 2, 5, 4), { size: [12, 9], coordinate: "asymmetric", nearest_mode: "floor" }],
    ];
    for (const [x, given] of cases) {
      expect(await cpuVersusWasm(resize, [x], resolved(resize, given))).toEqual([]);
    }
  });
});
