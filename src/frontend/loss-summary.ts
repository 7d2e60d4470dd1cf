// The training loss of a model as commands report it: which loss, on which output, and
// why. An imported model's loss was chosen by the importer (import-build.ts, with its
// reason); a .par model declares its own.

import type { Graph } from "../ir/graph.js";
import type { LossChoice } from "./import-build.js";

export interface LossSummary {
  kind: string;
  /** The tensor the loss trains (the model output). */
  output: string;
  /** The labels or target input it compares against. */
  target: string;
  reason: string;
}

/** The loss of `graph`: the importer's choice when given, else the model's own loss op; null without one. */
export function lossSummary(graph: Graph, chosen?: LossChoice): LossSummary | null {
  if (chosen) return { ...chosen };
  const op = graph.lossOps()[0];
  if (!op) return null;
  return { kind: op.op, output: op.inputs[0], target: op.inputs[1] ?? "", reason: "declared in the model" };
}
