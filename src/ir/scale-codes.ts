// Diagnostic codes of the hierarchical simulation of large-scale strategies (pipelines,
// replicas, ZeRO, recomputation, precision: src/ir/stage-plan.ts, src/sim/scale/,
// src/cost/scale-*.ts, src/search/evaluate-scale.ts, src/search/scale/) and of the Megatron generator
// (src/ir/megatron.ts): PAR7050–PAR7079. They travel in a ParError (src/core/diagnostics.ts).
import type { CodeTable } from "../core/codes.js";

export const SCALE_CODES: CodeTable = {
  PAR7050: { title: "an op's attributes pin the batch size: it cannot be priced at the micro-batch size" },
  PAR7051: { title: "an op cannot be re-typed at the micro-batch size (its shape inference fails there)" },
  PAR7052: { title: "the strategy does not cut the model into a valid pipeline (validate it first)" },
  PAR7053: { title: "the sample size does not split into replicas × micro-batches" },
  PAR7054: { title: "the model has no batch (no op with a sample dim) to split into replicas and micro-batches" },
  PAR7055: { title: "a Megatron configuration does not fit the model or the mesh (sizes do not divide)" },
  PAR7057: { title: "the scale search ran past its time budget (warning): its best so far is returned" },
};
