import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Diagnostics } from "../../../src/core/diagnostics.js";
import { check } from "../../../src/frontend/check.js";
import { graphToPar } from "../../../src/frontend/import-to-par.js";
import { importKeras } from "../../../src/frontend/keras/import.js";
import { parse } from "../../../src/frontend/parse.js";

const dir = new URL("../../fixtures/keras/", import.meta.url);
const text = (f: string) => readFileSync(new URL(f, dir), "utf8");
const shard = (p: string) => new Uint8Array(readFileSync(new URL(p, dir)));

function run(json: unknown, options = {}, read?: (p: string) => Uint8Array) {
  const d = new Diagnostics();
  const m = importKeras(json, "model.json", options, d, read);
  return { m, d, codes: d.errors.map((e) => e.code), text: d.items.map((e) => `${e.code} ${e.message}`).join("\n") };
}

describe("Keras model.json import", () => {
  it("Sequential CNN: NHWC input transposed to NCHW, depthwise as grouped conv, exact parameters", () => {
    const r = run(text("seq_cnn.json"), { batch: 2 });
    expect(r.text).toBe("");
    const g = r.m!.graph;
    const ops = g.topoOrder().map((o) => o.op);
    expect(ops.slice(0, 2)).toEqual(["transpose", "conv2d"]);
    expect(g.op("dw").attrs).toMatchObject({ groups: 4, out: 8 });
    // conv1 3·3·3·4+4, bn 2·4, dw 3·3·1·8, fc (8·3·3)·10+10.
    expect(r.m!.parameters).toBe(112 + 8 + 72 + 730);
    expect(g.parameterCount()).toBe(r.m!.parameters);
    // Flatten sees Keras's NHWC element order.
    const flat = g.op("flat");
    expect(g.tensor(flat.inputs[0]).producer?.op).toBe("flat_nhwc");
    expect(g.lossOps()[0].op).toBe("softmax_cross_entropy");
  });

  it("functional with Add and Concatenate round-trips through .par", () => {
    const r = run(text("functional.json"), { batch: 2 });
    expect(r.text).toBe("");
    const g = r.m!.graph;
    expect(g.op("cat").attrs.axis).toBe(1);
    expect(g.op("sum").op).toBe("add");
    const d = new Diagnostics();
    const checked = check(parse(graphToPar(g, "func"), "func.par", d)!, d);
    expect(d.errors).toEqual([]);
    expect(checked.models.get("func")!.parameterCount()).toBe(g.parameterCount());
  });

  it("Dense weights from a shard keep the [in, out] kernel", () => {
    const r = run(JSON.parse(text("dense.json")), { batch: 1, loss: "mse" }, shard);
    expect(r.text).toBe("");
    expect(Array.from(r.m!.weights.get("d1.weight")!)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(r.m!.weights.get("d1.bias")!)).toEqual([0.5, -0.5]);
    expect(r.m!.parameters).toBe(8);
  });

  it("coded errors: bad JSON (PAR6030), unknown inbound (PAR6031), short shard (PAR6032), unsupported layers (PAR6010)", () => {
    expect(run("{ not json").codes).toEqual(["PAR6030"]);
    expect(run({ modelTopology: { class_name: "Sequential" } }).codes).toEqual(["PAR6030"]);
    const f = JSON.parse(text("functional.json"));
    f.modelTopology.config.layers[3].inbound_nodes[0][0][0] = "ghost";
    expect(run(f, { batch: 2 }).codes).toEqual(["PAR6031"]);
    expect(run(JSON.parse(text("dense.json")), { batch: 1 }, () => new Uint8Array(8)).codes).toEqual(["PAR6032"]);
    const s = JSON.parse(text("seq_cnn.json"));
    s.modelTopology.config.layers.push({ class_name: "GRU", config: { name: "gru1" } }, { class_name: "Conv3D", config: { name: "c3" } });
    const r = run(s, { batch: 2 });
    expect(r.codes).toEqual(["PAR6010"]);
    expect(r.text).toContain("GRU (gru1)");
    expect(r.text).toContain("Conv3D (c3)");
    expect(run(text("seq_cnn.json")).codes).toEqual(["PAR6014"]);
  });

  it("PAR6031 (not an internal error): a functional layer whose inbound_nodes are not a list (found by the fuzzer)", () => {
    const f = JSON.parse(text("functional.json"));
    f.modelTopology.config.layers[3].inbound_nodes = 0;
    const r = run(f, { batch: 2 });
    expect(r.codes).toEqual(["PAR6031"]);
    expect(r.text).toMatch(/layer \w+ \(\w+\) has no input: its inbound_nodes name no layer and it is not an InputLayer/);
  });

  it("coded errors, not internal ones, for a manifest shape or an input shape of the wrong kind (found by the fuzzer)", () => {
    const m = JSON.parse(text("dense.json"));
    m.weightsManifest[0].weights[1].shape = 2147483648;
    expect(run(m, { batch: 2 }, shard).codes).toEqual(["PAR6032"]);
    m.weightsManifest[0].weights[1] = null;
    expect(run(m, { batch: 2 }, shard).codes).toEqual(["PAR6032"]);
    for (const shape of [true, [null, "3"], [null, -3], [null, 1.5]]) {
      const s = JSON.parse(text("dense.json"));
      s.modelTopology.config.layers[0].config.batch_input_shape = shape;
      expect(run(s, { batch: 2 }, shard).codes, JSON.stringify(shape)).toEqual(["PAR6030"]);
    }
    const big = JSON.parse(text("dense.json"));
    big.modelTopology.config.layers[0].config.batch_input_shape = [null, 2 ** 40];
    expect(run(big, { batch: 2 }, shard).codes).toEqual(["PAR6006"]);
  });

  it("PAR6032 (not an internal error): `units` that disagree with the weightsManifest (issue 20, row 7)", () => {
    const edited = text("dense.json").replace('"units": 2', '"units": 5');
    for (const read of [shard, undefined]) {
      const r = run(edited, { batch: 2 }, read);
      expect(r.codes).toEqual(["PAR6032"]);
      expect(r.text).toContain("layer d1 (Dense): the weightsManifest gives its weight shape [3, 2] (6 values), but the layer's configuration makes it [3, 5] (15 values)");
      expect(r.d.errors[0].hint).toContain("disagree");
    }
  });
});
