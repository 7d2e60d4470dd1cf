// LSTM, GRU and RNN. par's recurrent ops are batch-first, one direction each, and return
// every step's h plus, on request, the final state; ONNX's are sequence-first (layout 0)
// with a direction axis, and return Y, Y_h (and Y_c). A bidirectional layer becomes two par
// ops, the second reversed, whose outputs are concatenated along ONNX's direction axis;
// transposes and unsqueezes rebuild the ONNX outputs that are read.

import type { Attrs } from "../../../ops/contract.js";
import type { HandlerTable, NodeContext, OnnxOpHandler } from "../context.js";
import { Unmappable } from "../errors.js";
import { constDims, constOf, type Val } from "../values.js";

interface OnnxRecurrent {
  op: "lstm" | "gru" | "rnn";
  /** torch's gate block k comes from ONNX's gate block from[k] (LSTM i,o,f,c → i,f,g,o; GRU z,r,h → r,z,n). */
  from: number[];
  /** The state inputs after initial_h: initial_c for LSTM. */
  cellState: boolean;
  /** ONNX's default activations of one direction. */
  activations: string[];
  /** The cell reads linear_before_reset (GRU). */
  resetAttr: boolean;
  /** par's activations besides the default (RNN: Tanh or Relu), by ONNX name lower-cased → par's nonlinearity. */
  nonlinearities: Readonly<Record<string, string>>;
}

const SPECS: Readonly<Record<string, OnnxRecurrent>> = {
  LSTM: { op: "lstm", from: [0, 2, 3, 1], cellState: true, activations: ["Sigmoid", "Tanh", "Tanh"], resetAttr: false, nonlinearities: {} },
  GRU: { op: "gru", from: [1, 0, 2], cellState: false, activations: ["Sigmoid", "Tanh"], resetAttr: true, nonlinearities: {} },
  RNN: { op: "rnn", from: [0], cellState: false, activations: ["Tanh"], resetAttr: false, nonlinearities: { tanh: "tanh", relu: "relu" } },
};

/** The gate blocks of one direction's weights in torch's order. */
function reorder(w: Float32Array, from: number[]): Float32Array {
  const per = w.length / from.length;
  const out = new Float32Array(w.length);
  from.forEach((src, k) => out.set(w.subarray(src * per, (src + 1) * per), k * per));
  return out;
}

/** Direction d's part of a per-direction weight [D, ...]. */
function direction(data: Float32Array, d: number, count: number): Float32Array {
  const per = data.length / count;
  return data.subarray(d * per, (d + 1) * per);
}

/** The cell's par attributes from the node's activations and its own attributes; PAR6016 for forms par lacks. */
function cellAttrs(cx: NodeContext, spec: OnnxRecurrent, directions: number): Attrs {
  if (cx.attr.has("clip")) throw new Unmappable("PAR6016", `${cx.node.opType} with clip (par's cells do not clip)`);
  if (cx.attr.int("input_forget", 0) !== 0) throw new Unmappable("PAR6016", "LSTM with input_forget (coupled gates)");
  const acts = cx.attr.strings("activations");
  const attrs: Attrs = {};
  if (spec.resetAttr) attrs.linear_before_reset = cx.attr.int("linear_before_reset", 0) === 1;
  if (!acts) return attrs;
  const per = acts.length / directions;
  const first = acts.slice(0, per);
  const same = acts.every((a, i) => a.toLowerCase() === first[i % per].toLowerCase());
  const chosen = per === 1 && Object.hasOwn(spec.nonlinearities, first[0].toLowerCase()) ? spec.nonlinearities[first[0].toLowerCase()] : undefined;
  if (same && chosen !== undefined) {
    attrs.nonlinearity = chosen;
    return attrs;
  }
  if (!same || first.some((a, i) => a.toLowerCase() !== spec.activations[i]?.toLowerCase())) {
    const others = Object.keys(spec.nonlinearities).filter((a) => a !== spec.activations[0].toLowerCase());
    throw new Unmappable("PAR6016", `${cx.node.opType} activations [${acts.join(", ")}] (par's ${spec.op} uses ${spec.activations.join(", ")}${others.length ? ` or ${others.join(", ")}` : ""})`);
  }
  return attrs;
}

/** Direction d's initial state [batch, hidden] from an ONNX state input, or undefined for zeros. */
function initialState(cx: NodeContext, index: number, d: number, layout: number, name: string): string | undefined {
  const v = cx.inputs[index];
  if (!v) return undefined;
  const k = v.kind === "const" ? constOf(v) : undefined;
  if (k && k.data.every((x) => x === 0)) return undefined;
  // [D, batch, hidden] (layout 0) or [batch, D, hidden] (layout 1).
  const axis = layout === 0 ? 0 : 1;
  const t = cx.operand(index, name);
  const one = cx.shape(t)[axis] === 1 ? [t] : cx.emit("slice", { axis, start: d, end: d + 1, step: 1 }, [t], `${cx.base}_${name}_${d}`);
  if (!one) throw new Unmappable("PAR6020", `${name} of direction ${d} could not be sliced`);
  const sq = cx.emit("squeeze", { axes: [axis] }, one, `${cx.base}_${name}${d ? `_${d}` : ""}`);
  if (!sq) throw new Unmappable("PAR6020", `${name} could not be squeezed`);
  return sq[0];
}

/** sequence_lens must be absent or say every sequence runs to its end. */
function checkSequenceLens(cx: NodeContext, seq: number): void {
  const v = cx.inputs[4];
  if (!v) return;
  const k = v.kind === "const" ? constOf(v) : undefined;
  if (!k || k.data.some((n) => n !== seq)) throw new Unmappable("PAR6016", `${cx.node.opType} with sequence_lens shorter than the sequence (par runs every sequence to its end)`);
}

/** Outputs of the directions stacked along ONNX's direction axis `axis` (unsqueeze, then concat). */
function stackDirections(cx: NodeContext, ids: string[], axis: number, name: string): string {
  const parts = ids.map((id, d) => {
    const u = cx.emit("unsqueeze", { axes: [axis] }, [id], ids.length === 1 ? `${cx.base}_${name}` : `${cx.base}_${name}_${d}`);
    if (!u) throw new Unmappable("PAR6020", `${name} could not be built`);
    return u[0];
  });
  if (parts.length === 1) return parts[0];
  const c = cx.emit("concat", { axis }, parts, `${cx.base}_${name}`);
  if (!c) throw new Unmappable("PAR6020", `${name} could not be built`);
  return c[0];
}

const recurrent =
  (spec: OnnxRecurrent): OnnxOpHandler =>
  (plain) => {
    const cx = plain.asWeightOwner();
    const ins = cx.inputs;
    const dir = cx.attr.string("direction", "forward");
    if (!["forward", "reverse", "bidirectional"].includes(dir)) throw new Unmappable("PAR6016", `${cx.node.opType} direction ${dir}`);
    const directions = dir === "bidirectional" ? 2 : 1;
    const cell = cellAttrs(cx, spec, directions);
    if (spec.cellState && ins[7]) {
      const p = constOf(ins[7]);
      if (!p || p.data.some((x) => x !== 0)) throw new Unmappable("PAR6016", "LSTM with peephole weights P (par's lstm has none)");
    }
    const layout = cx.attr.int("layout", 0);
    let x = cx.tensorIn(0, "X");
    if (layout === 0) {
      const t = cx.emit("transpose", { perm: [1, 0, 2] }, [x], `${cx.base}_batch_first`);
      if (!t) return false;
      x = t[0];
    }
    const seq = cx.shape(x)[1];
    checkSequenceLens(cx, seq);
    const wv = ins[1]!;
    const rv = ins[2]!;
    const bv = ins[3];
    const gh = constDims(wv)[1];
    const hidden = cx.attr.int("hidden_size", 0) || gh / spec.from.length;
    const [, yhName, ycName] = cx.node.outputs;
    const returnState = cx.used(yhName) || (spec.cellState && cx.used(ycName));
    // Without B the biases are zero (ONNX), not par's random init: a constant with no
    // initializer behind it, so a frozen param (import.ts), and not counted.
    const zeros: Val = { kind: "const", value: { dtype: "float", shape: [directions, 2 * gh], data: new Array<number>(2 * directions * gh).fill(0) } };
    const b = bv ?? zeros;
    const what = cx.node.opType;
    // W, R: [D, gates·h, ·]; B: [D, 2·gates·h] = [Wb, Rb] per direction. Read lazily.
    const perDirection = (n: number): number => n / directions;
    const outs: string[][] = [];
    for (let d = 0; d < directions; d++) {
      const states = [initialState(cx, 5, d, layout, "initial_h"), ...(spec.cellState ? [initialState(cx, 6, d, layout, "initial_c")] : [])];
      // A par op takes initial_c only after initial_h: a given c with a zero h needs the zeros.
      if (states[0] === undefined && states[1] !== undefined) throw new Unmappable("PAR6016", "LSTM with a non-zero initial_c and a zero initial_h");
      const given = states.filter((s): s is string => s !== undefined);
      const reverse = dir === "reverse" || d === 1;
      const ids = cx.emit(spec.op, { hidden, return_sequences: true, reverse, return_state: returnState, ...cell }, [x, ...given], d === 0 ? cx.base : `${cx.base}_reverse`);
      if (!ids) return false;
      const op = cx.producer(ids[0]);
      cx.setWeight(op, "weight_ih", wv, `${what} W`, (w) => reorder(direction(w, d, directions), spec.from), perDirection);
      cx.setWeight(op, "weight_hh", rv, `${what} R`, (r) => reorder(direction(r, d, directions), spec.from), perDirection);
      cx.setWeight(op, "bias_ih", b, `${what} B`, (v) => reorder(direction(v, d, directions).subarray(0, gh), spec.from), (n) => perDirection(n) / 2);
      cx.setWeight(op, "bias_hh", b, `${what} B`, (v) => reorder(direction(v, d, directions).subarray(gh), spec.from), (n) => perDirection(n) / 2);
      outs.push(ids);
    }
    // Y: [seq, D, batch, h] (layout 0) or [batch, seq, D, h] (layout 1).
    if (cx.used(cx.node.outputs[0])) {
      let y = stackDirections(cx, outs.map((o) => o[0]), 2, "y");
      if (layout === 0) {
        const t = cx.emit("transpose", { perm: [1, 2, 0, 3] }, [y], `${cx.base}_seq_first`);
        if (!t) return false;
        y = t[0];
      }
      cx.bind(0, y);
    }
    // Y_h, Y_c: [D, batch, h] (layout 0) or [batch, D, h] (layout 1).
    if (cx.used(yhName)) cx.bind(1, stackDirections(cx, outs.map((o) => o[1]), layout === 0 ? 0 : 1, "h"));
    if (spec.cellState && cx.used(ycName)) cx.bind(2, stackDirections(cx, outs.map((o) => o[2]), layout === 0 ? 0 : 1, "c"));
    return true;
  };

export const RECURRENT_HANDLERS: HandlerTable = {
  LSTM: { map: recurrent(SPECS.LSTM), par: "`lstm` per direction (bidirectional: a second, reversed one and concats), after a `transpose` to batch-first (layout 0); initial_h/initial_c as inputs; Y, Y_h, Y_c; gates reordered i,o,f,c → i,f,g,o; peepholes, clip, input_forget, custom activations, short sequence_lens are PAR6016" },
  GRU: { map: recurrent(SPECS.GRU), par: "`gru` per direction, as LSTM (linear_before_reset; gates z,r,h → r,z,n)" },
  RNN: { map: recurrent(SPECS.RNN), par: "`rnn` per direction, as LSTM (Tanh or Relu)" },
};
