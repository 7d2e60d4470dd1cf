import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Diagnostics } from "../../../src/core/diagnostics.js";
import { importOnnx } from "../../../src/frontend/onnx/import.js";

const dir = new URL("../../fixtures/onnx/", import.meta.url);
const load = (name: string) => ({
  bytes: new Uint8Array(readFileSync(new URL(`${name}.onnx`, dir))),
  side: JSON.parse(readFileSync(new URL(`${name}.json`, dir), "utf8")) as { parameters: number; trainableParameters: number; inputs: Record<string, number[]> },
});

describe("ONNX fixtures import with their exact parameter counts", () => {
  for (const name of ["mlp", "cnn_bn", "resnet18", "transformer", "lstm_lm"]) {
    it(name, () => {
      const { bytes, side } = load(name);
      const d = new Diagnostics();
      const m = importOnnx(bytes, `${name}.onnx`, { inputs: side.inputs }, d);
      expect(d.errors.map((e) => `${e.code} ${e.message}`)).toEqual([]);
      expect(m).toBeDefined();
      expect(m!.parameters).toBe(side.parameters);
      expect(m!.graph.parameterCount()).toBe(side.parameters);
      // Trainable = torch's parameters; the rest are float buffers (batch-norm statistics).
      expect(m!.graph.trainableParameterCount()).toBe(side.trainableParameters);
      expect(m!.graph.bufferCount()).toBe(side.parameters - side.trainableParameters);
      expect(m!.graph.lossOps().length).toBe(1);
    });
  }
});
