// The strategy checked against the graph and the mesh before anything is lowered.

import type { Graph } from "../../ir/graph.js";
import { taskCount, type Strategy } from "../../ir/strategy.js";

/** Checks the strategy against the graph and mesh; throws with every problem listed. */
export function checkStrategy(graph: Graph, strategy: Strategy, devices: Set<number>): void {
  const problems: string[] = [];
  for (const o of graph.topoOrder()) {
    const c = strategy.ops[o.name];
    if (!c) {
      problems.push(`op ${o.name} has no config`);
      continue;
    }
    if (c.degrees.length !== o.sig.space.length) {
      problems.push(`op ${o.name}: ${c.degrees.length} degrees for ${o.sig.space.length} dims`);
      continue;
    }
    c.degrees.forEach((d, i) => {
      const dim = o.sig.space[i];
      if (!Number.isInteger(d) || d < 1 || d > dim.size) problems.push(`op ${o.name}: degree ${d} for dim ${dim.name} of size ${dim.size}`);
      else if (d > 1 && dim.splittable === false) problems.push(`op ${o.name}: dim ${dim.name} is not splittable`);
    });
    if (c.devices.length !== taskCount(c)) problems.push(`op ${o.name}: ${c.devices.length} devices for ${taskCount(c)} tasks`);
    for (const d of c.devices) if (!devices.has(d)) problems.push(`op ${o.name}: device ${d} is not in the mesh`);
  }
  if (problems.length) throw new Error(`lower: invalid strategy ${strategy.name}: ${problems.join("; ")}`);
}
