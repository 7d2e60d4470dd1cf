// ONNX Runtime as the numeric oracle: for every ONNX fixture that ships its weights, par's
// forward pass (the tfjs runtime on the imported graph) computes what onnxruntime-node
// computes on the same file and inputs, within 1e-4 relative to the output's largest
// magnitude. (ResNet-18 ships structure only: its forward fails with PAR6008, as checked
// here; the zoo, test/frontend/onnx/zoo.test.ts, runs it with weights.) The torch engine's
// forward pass (par forward --engine torch) is held to the same oracle.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { Diagnostics, ParError } from "../../../src/core/diagnostics.js";
import { forwardOf, forwardOfTorch } from "../../../src/pipeline.js";
import type { GivenArray } from "../../../src/frontend/forward-inputs.js";
import { loadForForward } from "./forward-helpers.js";
import { compareArrays } from "../../../src/cli/commands/forward.js";
import type { NpyArray } from "../../../src/frontend/npy.js";
import type { TF } from "../../../src/ops/contract.js";
import { ortRun } from "../../support/ort.js";
import { useBackend } from "../../support/tf.js";

const DIR = fileURLToPath(new URL("../../fixtures/onnx/", import.meta.url));

/** Deterministic inputs: floats in (-1, 1) from a hash; integer tokens below `vocab`. */
export function sampleArray(shape: number[], kind: "float" | "tokens", seed: number, vocab = 2): NpyArray {
  const n = shape.reduce((a, b) => a * b, 1);
  const h = (i: number) => (Math.imul(i + 1, 2654435761) ^ Math.imul(seed + 7, 40503)) >>> 0;
  if (kind === "tokens") return { dtype: "i8", shape, data: BigInt64Array.from({ length: n }, (_, i) => BigInt(h(i) % vocab)) };
  return { dtype: "f4", shape, data: Float32Array.from({ length: n }, (_, i) => (h(i) % 20001) / 10000 - 1) };
}

const FIXTURES: { name: string; inputs: Record<string, { shape: number[]; kind: "float" | "tokens"; vocab?: number }> }[] = [
  { name: "mlp", inputs: { x: { shape: [3, 8], kind: "float" } } },
  { name: "cnn_bn", inputs: { image: { shape: [2, 3, 16, 16], kind: "float" } } },
  { name: "transformer", inputs: { x: { shape: [2, 6, 32], kind: "float" } } },
  { name: "lstm_lm", inputs: { tokens: { shape: [2, 7], kind: "tokens", vocab: 50 } } },
];

describe("par forward agrees with ONNX Runtime on every fixture with weights", () => {
  let tf: TF;
  beforeAll(async () => {
    tf = await useBackend("cpu");
  });

  for (const f of FIXTURES) {
    it(f.name, async () => {
      const arrays = Object.fromEntries(Object.entries(f.inputs).map(([k, v], i) => [k, sampleArray(v.shape, v.kind, i + 1, v.vocab)]));
      const given: GivenArray[] = Object.entries(arrays).map(([name, array]) => ({ name, source: `${name}.npy`, array }));
      const d = new Diagnostics();
      const m = loadForForward(`${f.name}.onnx`, given, { sources: new Map(), diagnostics: d, cwd: DIR });
      expect(d.errors.map((e) => `${e.code} ${e.message}`)).toEqual([]);
      const ours = await forwardOf(m!, tf);
      const theirs = await ortRun(new Uint8Array(readFileSync(`${DIR}${f.name}.onnx`)), arrays);
      expect(ours.map((o) => o.name)).toEqual([...theirs.keys()]);
      for (const o of ours) {
        const ref = theirs.get(o.name)!;
        expect(o.shape).toEqual(ref.dims);
        const e = compareArrays(o.data, ref.data);
        expect(e.maxRelError, `${f.name} ${o.name}: max abs error ${e.maxAbsError}`).toBeLessThanOrEqual(1e-4);
      }
    }, 60_000);
  }

  for (const f of FIXTURES) {
    it(`${f.name} on the torch engine (par forward --engine torch)`, async () => {
      const arrays = Object.fromEntries(Object.entries(f.inputs).map(([k, v], i) => [k, sampleArray(v.shape, v.kind, i + 1, v.vocab)]));
      const given: GivenArray[] = Object.entries(arrays).map(([name, array]) => ({ name, source: `${name}.npy`, array }));
      const d = new Diagnostics();
      const m = loadForForward(`${f.name}.onnx`, given, { sources: new Map(), diagnostics: d, cwd: DIR });
      const ours = await forwardOfTorch(m!);
      const theirs = await ortRun(new Uint8Array(readFileSync(`${DIR}${f.name}.onnx`)), arrays);
      for (const o of ours) {
        const e = compareArrays(o.data, theirs.get(o.name)!.data);
        expect(e.maxRelError, `${f.name} ${o.name}: max abs error ${e.maxAbsError}`).toBeLessThanOrEqual(1e-4);
      }
    }, 120_000);
  }

  it("resnet18 ships no weights: its forward is PAR6008 naming the missing side file", async () => {
    const d = new Diagnostics();
    const m = loadForForward("resnet18.onnx", [{ source: "image.npy", array: sampleArray([1, 3, 224, 224], "float", 1) }], { sources: new Map(), diagnostics: d, cwd: DIR });
    expect(d.warnings.map((w) => w.code)).toEqual(["PAR6007"]);
    const e = await forwardOf(m!, tf).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(ParError);
    expect((e as ParError).diagnostics[0].code).toBe("PAR6008");
    expect((e as ParError).diagnostics[0].message).toContain("weights-not-shipped.bin");
  });
});
