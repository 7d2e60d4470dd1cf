// Random valid strategies for property tests: per op, random degrees (uneven splits
// included, unsplittable dims kept at 1, at most 8 tasks) and random devices of the mesh.
import type { Graph } from "../../src/ir/graph.js";
import type { Strategy } from "../../src/ir/strategy.js";
import { rng } from "../support/sharded.js";

export function randomStrategy(graph: Graph, deviceCount: number, seed: number, name = "rand"): Strategy {
  const next = rng(seed);
  const pick = (n: number) => Math.floor(next() * n);
  const ops: Strategy["ops"] = {};
  for (const op of graph.topoOrder()) {
    let tasks = 1;
    const degrees = op.sig.space.map((d) => {
      if (d.splittable === false || next() < 0.4) return 1;
      const deg = 1 + pick(Math.min(d.size, Math.floor(8 / tasks)));
      tasks *= deg;
      return deg;
    });
    // Half the ops keep the default placement 0..n-1 (when it fits), the rest are random.
    const devices = tasks <= deviceCount && next() < 0.5 ? Array.from({ length: tasks }, (_, i) => i) : Array.from({ length: tasks }, () => pick(deviceCount));
    ops[op.name] = { degrees, devices };
  }
  return { name, model: graph.name, mesh: `test1x${deviceCount}`, ops };
}
