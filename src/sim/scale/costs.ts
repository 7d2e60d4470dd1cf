// The costs the hierarchical simulator needs, as functions (src/sim never imports
// src/cost; src/cost/scale-costs.ts implements this): the op-level costs of one stage's
// micro-batch graph on its sub-mesh, and point-to-point transfers, collectives and
// optimizer steps on the whole mesh.

import type { Mesh } from "../../core/mesh.js";
import type { Graph } from "../../ir/graph.js";
import type { SimCosts } from "../costs.js";

export interface ScaleCosts {
  /** Op-level costs of `graph` (a stage at the micro-batch size) on `mesh` (its sub-mesh). */
  stageCosts(graph: Graph, mesh: Mesh): SimCosts;
  /** Seconds to move `bytes` from device `src` to `dst` of the whole mesh. */
  transfer(bytes: number, src: number, dst: number): number;
  /** Seconds of a collective over distinct `devices` of the whole mesh (ascending); `bytes` is the whole buffer. */
  allReduce(bytes: number, devices: readonly number[]): number;
  reduceScatter(bytes: number, devices: readonly number[]): number;
  allGather(bytes: number, devices: readonly number[]): number;
  /** Seconds of the optimizer step over `params` parameters (f32 master copies) on `device`. */
  update(params: number, device: number): number;
}
