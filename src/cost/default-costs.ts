// The default costs of a (graph, mesh) pair: the roofline compute model with the mesh's
// alpha-beta communication model, shaped as the simulator's SimCosts. One helper so that
// the search, `par search`, `par diff` and the benches price strategies identically.

import type { Mesh } from "../core/mesh.js";
import type { Graph } from "../ir/graph.js";
import { CostModel, type CostModelOptions } from "./compute.js";

export function defaultCosts(graph: Graph, mesh: Mesh, options: CostModelOptions = {}): CostModel {
  return new CostModel(graph, mesh, options);
}
