// The hierarchical simulator's costs (src/sim/scale/costs.ts `ScaleCosts`) from par's cost
// models: each stage's op-level costs from a CostModel of its micro-batch graph on its
// sub-mesh (roofline or measured tables, at the precision the graph is typed in), and the
// whole mesh's point-to-point and collective costs (alpha–beta, comm.ts), collectives
// cached by group shape so that thousands of data-parallel groups cost a few evaluations.

import type { Mesh } from "../core/mesh.js";
import { routeTable } from "../core/routes.js";
import type { Graph } from "../ir/graph.js";
import { CollectiveModel, CommModel } from "./comm.js";
import { CostModel, type MeasuredCosts } from "./compute.js";
import { optimizerStateFactor, type Optimizer } from "./memory.js";

export interface ScaleCostOptions {
  /** Fraction of peak FLOP/s reached (CostModel's default when absent). */
  efficiency?: number;
  measured?: readonly MeasuredCosts[];
  /** The optimizer whose step is priced (default sgd, as everywhere in par). */
  optimizer?: Optimizer;
}

export class ScaleCostModel {
  readonly comm: CommModel;
  readonly collectives: CollectiveModel;
  readonly optimizer: Optimizer;

  constructor(readonly mesh: Mesh, readonly options: ScaleCostOptions = {}) {
    const routes = routeTable(mesh);
    this.comm = new CommModel(mesh, routes);
    this.collectives = new CollectiveModel(mesh, routes);
    this.optimizer = options.optimizer ?? "sgd";
  }

  stageCosts(graph: Graph, mesh: Mesh): CostModel {
    const o: ConstructorParameters<typeof CostModel>[2] = { optimizer: this.optimizer, measured: [...(this.options.measured ?? [])] };
    if (this.options.efficiency !== undefined) o.efficiency = this.options.efficiency;
    return new CostModel(graph, mesh, o);
  }

  transfer(bytes: number, src: number, dst: number): number {
    return this.comm.transfer(bytes, src, dst);
  }

  allReduce(bytes: number, devices: readonly number[]): number {
    return this.collectives.time("all-reduce", bytes, devices);
  }

  reduceScatter(bytes: number, devices: readonly number[]): number {
    return this.collectives.time("reduce-scatter", bytes, devices);
  }

  allGather(bytes: number, devices: readonly number[]): number {
    return this.collectives.time("all-gather", bytes, devices);
  }

  /**
   * The optimizer step over `params` f32 master weights: memory bound, as CostModel.update
   * (read weight and gradient, write the weight, read and write each state buffer).
   */
  update(params: number, device: number): number {
    if (params <= 0) return 0;
    const spec = this.mesh.devices[device].spec;
    const traffic = (3 + 2 * optimizerStateFactor(this.optimizer)) * 4 * params;
    return traffic / spec.memoryBandwidth + spec.launchOverhead;
  }
}
