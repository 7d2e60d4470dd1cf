// LSTM. par's lstm is batch-first and returns every step's h; ONNX's is sequence-first
// (layout 0) with a direction axis, and returns Y, Y_h and Y_c. Transposes and a slice
// rebuild the ONNX outputs that are read.

import type { HandlerTable, OnnxOpHandler } from "../context.js";
import { Unmappable } from "../errors.js";
import { constDims, constOf } from "../values.js";

/** ONNX gate blocks i, o, f, c → torch i, f, g, o along the leading 4·h axis. */
function reorderGates(w: Float32Array): Float32Array {
  const per = w.length / 4;
  const out = new Float32Array(w.length);
  const from = [0, 2, 3, 1]; // torch block k comes from ONNX block from[k]
  from.forEach((src, k) => out.set(w.subarray(src * per, (src + 1) * per), k * per));
  return out;
}

const lstm: OnnxOpHandler = (plain) => {
  const cx = plain.asWeightOwner();
  const ins = cx.inputs;
  const dir = cx.attr.string("direction", "forward");
  if (dir !== "forward") throw new Unmappable("PAR6016", `LSTM direction ${dir} (par's lstm runs forward only)`);
  if (cx.attr.has("activations") || cx.attr.has("clip") || cx.attr.int("input_forget", 0) !== 0) throw new Unmappable("PAR6016", "LSTM with custom activations, clip or input_forget");
  if (ins[4]) throw new Unmappable("PAR6016", "LSTM with sequence_lens (par runs every sequence to full length)");
  for (const [i, what] of [[5, "initial_h"], [6, "initial_c"]] as const) {
    const v = ins[i];
    if (!v) continue;
    const k = v.kind === "const" ? constOf(v) : undefined;
    if (!k || k.data.some((x) => x !== 0)) throw new Unmappable("PAR6016", `LSTM with a non-zero ${what} (par's lstm starts from zero state)`);
  }
  const [yName, yhName, ycName] = cx.node.outputs;
  if (cx.used(ycName)) throw new Unmappable("PAR6016", "LSTM output Y_c is used (par's lstm returns h only)");
  const h = cx.attr.int("hidden_size", 0);
  const layout = cx.attr.int("layout", 0);
  let x = cx.tensorIn(0, "X");
  if (layout === 0) {
    const t = cx.emit("transpose", { perm: [1, 0, 2] }, [x], `${cx.base}_batch_first`);
    if (!t) return false;
    x = t[0];
  }
  const wv = ins[1]!;
  const rv = ins[2]!;
  const hidden = h || constDims(rv)[2];
  const ids = cx.emit("lstm", { hidden, return_sequences: true }, [x]);
  if (!ids) return false;
  const op = cx.producer(ids[0]);
  cx.setWeight(op, "weight_ih", wv, "LSTM W", reorderGates);
  cx.setWeight(op, "weight_hh", rv, "LSTM R", reorderGates);
  const bv = ins[3];
  if (bv) {
    // B = [Wb (4h), Rb (4h)]: half the values each for bias_ih and bias_hh.
    cx.setWeight(op, "bias_ih", bv, "LSTM B", (b) => reorderGates(b.subarray(0, 4 * hidden)), (n) => n / 2);
    cx.setWeight(op, "bias_hh", bv, "LSTM B", (b) => reorderGates(b.subarray(4 * hidden)), (n) => n / 2);
  }
  const y = ids[0];
  const seq = cx.shape(y)[1];
  // Y: [seq, 1, batch, h] (layout 0) or [batch, seq, 1, h] (layout 1).
  if (cx.used(yName)) {
    let yy = y;
    if (layout === 0) {
      const t = cx.emit("transpose", { perm: [1, 0, 2] }, [y], `${cx.base}_seq_first`);
      if (!t) return false;
      yy = t[0];
    }
    const u = cx.emit("unsqueeze", { axes: [layout === 0 ? 1 : 2] }, [yy], `${cx.base}_y`);
    if (!u) return false;
    cx.bind(0, u[0]);
  }
  // Y_h = the last step of Y: [1, batch, h] (layout 0) or [batch, 1, h] (layout 1).
  if (cx.used(yhName)) {
    const last = cx.emit("slice", { axis: 1, start: seq - 1, end: seq, step: 1 }, [y], `${cx.base}_last`);
    if (!last) return false;
    let yh = last[0];
    if (layout === 0) {
      const t = cx.emit("transpose", { perm: [1, 0, 2] }, [yh], `${cx.base}_h`);
      if (!t) return false;
      yh = t[0];
    }
    cx.bind(1, yh);
  }
  return true;
};

export const RECURRENT_HANDLERS: HandlerTable = {
  LSTM: lstm,
};
