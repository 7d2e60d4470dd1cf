// Small graphs and meshes for the strategy tests, built directly on the IR (no front end).
import fc from "fast-check";
import { Diagnostics } from "../../src/core/diagnostics.js";
import type { DeviceSpec, LinkSpec, Mesh, MeshDevice, MeshGroup } from "../../src/core/mesh.js";
import type { TensorType } from "../../src/core/tensor.js";
import { Graph } from "../../src/ir/graph.js";
import type { Attrs, OpSignature } from "../../src/ops/contract.js";
import { getOp } from "../../src/ops/registry.js";

export const f32 = (...shape: number[]): TensorType => ({ dtype: "f32", shape, dims: shape.map((_, i) => `d${i}`) });
export const i32 = (...shape: number[]): TensorType => ({ dtype: "i32", shape, dims: shape.map((_, i) => `d${i}`) });

/** Adds op `name` = `op`(inputs) with its signature inferred by the registry. */
export function add(g: Graph, name: string, op: string, inputs: string[], attrs: Attrs = {}): string {
  const entry = getOp(op);
  if (!entry) throw new Error(`no op ${op}`);
  const diagnostics = new Diagnostics();
  const full: Attrs = { ...attrs };
  for (const a of entry.attrs) if (!(a.name in full) && a.default !== undefined) full[a.name] = a.default;
  const sig = entry.infer(inputs.map((t) => g.tensor(t).type), full, { opName: name, diagnostics });
  if (!sig) throw new Error(`infer ${name}: ${diagnostics.items.map((d) => d.message).join("; ")}`);
  return g.addOp({ name, op, attrs: full, inputs, sig }).outputs[0];
}

/** x[batch, inF] → fc1 → relu → fc2 → softmax_cross_entropy(labels). */
export function mlp(batch = 8, inF = 6, hidden = 4, classes = 3): Graph {
  const g = new Graph("mlp", { batch });
  g.addInput("x", f32(batch, inF));
  g.addInput("labels", i32(batch));
  const h = add(g, "fc1", "linear", ["x"], { out: hidden });
  const r = add(g, "relu1", "relu", [h]);
  const o = add(g, "fc2", "linear", [r], { out: classes });
  add(g, "loss", "softmax_cross_entropy", [o, "labels"]);
  return g;
}

/** A residual MLP with `layers` blocks named layer{i}.fc1/relu/fc2/res (repeat-style names). */
export function residualMlp(layers: number, batch = 8, width = 6): Graph {
  const g = new Graph("resmlp", { batch });
  g.addInput("x", f32(batch, width));
  g.addInput("labels", i32(batch));
  let cur = "x";
  for (let i = 0; i < layers; i++) {
    const a = add(g, `layer${i}.fc1`, "linear", [cur], { out: width * 2 });
    const r = add(g, `layer${i}.relu`, "relu", [a]);
    const b = add(g, `layer${i}.fc2`, "linear", [r], { out: width });
    cur = add(g, `layer${i}.res`, "add", [cur, b]);
  }
  add(g, "loss", "softmax_cross_entropy", [cur, "labels"]);
  return g;
}

/** An op with a hand-made signature (ops not in the registry yet: attention, lstm, conv2d). */
export function addFake(g: Graph, name: string, op: string, inputs: string[], space: OpSignature["space"], out: TensorType): string {
  const sig: OpSignature = {
    outputs: [out],
    params: [],
    space,
    inputMaps: inputs.map((t) => g.tensor(t).type.shape.map(() => ({ kind: "full" as const }))),
    paramMaps: [],
    outputMaps: [out.shape.map(() => ({ kind: "full" as const }))],
    flops: (e) => ({ forward: e.reduce((a, b) => a * b, 1), backward: 2 * e.reduce((a, b) => a * b, 1) }),
  };
  return g.addOp({ name, op, attrs: {}, inputs, sig }).outputs[0];
}

export const TEST_DEVICE: DeviceSpec = {
  kind: "test",
  peakFlops: { f32: 1e12 },
  memoryBytes: 16e9,
  memoryBandwidth: 1e11,
  launchOverhead: 1e-6,
  source: "test fixture",
};
const NVLINK: LinkSpec = { name: "nvlink", bandwidth: 2e10, latency: 2e-6 };
const IB: LinkSpec = { name: "infiniband", bandwidth: 1e10, latency: 5e-6 };

/** `nodes` nodes of `perNode` devices (a flat mesh when nodes = 1 and flat is set). */
export function testMesh(nodes: number, perNode: number, name = `test${nodes}x${perNode}`, flat = false): Mesh {
  const devices: MeshDevice[] = [];
  if (flat) {
    for (let d = 0; d < perNode; d++) devices.push({ index: d, spec: TEST_DEVICE, path: [] });
    return { name, devices, root: { label: name, index: 0, link: NVLINK, children: [], devices: devices.map((d) => d.index) } };
  }
  const children: MeshGroup[] = [];
  for (let n = 0; n < nodes; n++) {
    const ids: number[] = [];
    for (let d = 0; d < perNode; d++) {
      const index = n * perNode + d;
      devices.push({ index, spec: TEST_DEVICE, path: [n] });
      ids.push(index);
    }
    children.push({ label: "node", index: n, link: NVLINK, children: [], devices: ids });
  }
  return { name, devices, root: { label: name, index: 0, link: IB, children, devices: [] } };
}

/** A random graph: a chain of linear/relu/add ops with random widths and skip connections. */
export const arbGraph: fc.Arbitrary<Graph> = fc
  .record({
    batch: fc.integer({ min: 1, max: 12 }),
    width: fc.integer({ min: 1, max: 9 }),
    steps: fc.array(fc.record({ kind: fc.constantFrom("linear", "relu", "add", "linear3d"), out: fc.integer({ min: 1, max: 9 }), pick: fc.nat() }), { minLength: 1, maxLength: 7 }),
  })
  .map(({ batch, width, steps }) => {
    const g = new Graph("rand", { batch });
    g.addInput("x", f32(batch, width));
    g.addInput("y3", f32(batch, 2, width));
    const tensors = ["x"];
    steps.forEach((s, i) => {
      const last = tensors[tensors.length - 1];
      const name = i % 3 === 0 ? `b${i}.op` : `op${i}`;
      if (s.kind === "linear") tensors.push(add(g, name, "linear", [last], { out: s.out }));
      else if (s.kind === "relu") tensors.push(add(g, name, "relu", [last]));
      else if (s.kind === "linear3d") add(g, name, "linear", ["y3"], { out: s.out });
      else {
        // add two tensors of the same shape, or the last with itself
        const shape = g.tensor(last).type.shape.join(",");
        const same = tensors.filter((t) => g.tensor(t).type.shape.join(",") === shape);
        tensors.push(add(g, name, "add", [last, same[s.pick % same.length]]));
      }
    });
    return g;
  });
