// Validation of a strategy against its graph and mesh. The rules (docs/strategies.md):
// every op has a config; one positive integer degree per parallel dim; a degree may leave
// an uneven split (src/core/region.ts `splitRange` gives the first size % d parts one
// extra element) but may not exceed the dim's size, since that would leave empty tasks;
// dims marked `splittable: false` keep degree 1; one device per task, each inside the mesh.
// The large-scale fields (pipeline, replicas, ZeRO, recomputation, precision) are checked by
// src/ir/strategy-validate-scale.ts.
// The per-op checks are shared with the `.par` resolver (src/frontend/strategy-par.ts), which
// reports the same problems at the rule that caused them.

import { didYouMean, type Diagnostics } from "../core/diagnostics.js";
import type { Mesh } from "../core/mesh.js";
import type { Graph, OpNode } from "./graph.js";
import type { OpConfig, Strategy } from "./strategy.js";
import { scaleProblems, type ScaleProblem } from "./strategy-validate-scale.js";

/** One problem with one op's config. `dim` is the iteration-dim index it concerns, if any. */
export interface OpConfigProblem {
  code: "PAR3152" | "PAR3153" | "PAR3154" | "PAR3155" | "PAR3156" | "PAR3157";
  message: string;
  dim?: number;
  /** Which part of the config is wrong: a degree or the device list. */
  field: "degrees" | "devices";
  expected?: string;
  hint?: string;
}

/** How many names a list of ops in one message shows before "and N more". */
const LIST_LIMIT = 6;

export function listNames(names: readonly string[]): string {
  const shown = names.slice(0, LIST_LIMIT).map((n) => `\`${n}\``);
  return names.length > LIST_LIMIT ? `${shown.join(", ")} and ${names.length - LIST_LIMIT} more` : shown.join(", ");
}

/** Checks one op's config; `deviceCount` is the mesh size. Returns every problem found. */
export function opConfigProblems(op: OpNode, config: OpConfig, deviceCount: number): OpConfigProblem[] {
  const out: OpConfigProblem[] = [];
  const space = op.sig.space;
  const dimNames = space.map((d) => d.name).join(", ");
  if (!Array.isArray(config.degrees) || config.degrees.length !== space.length) {
    const n = Array.isArray(config.degrees) ? config.degrees.length : 0;
    out.push({
      code: "PAR3153",
      field: "degrees",
      message: `op \`${op.name}\` has ${space.length} parallel dims (${dimNames}) but its config gives ${n} degrees`,
      expected: `${space.length} degrees, in the order ${dimNames}`,
    });
    return out;
  }
  let tasks = 1;
  let degreesOk = true;
  config.degrees.forEach((deg, i) => {
    const dim = space[i];
    if (!Number.isSafeInteger(deg) || deg < 1) {
      degreesOk = false;
      out.push({ code: "PAR3152", field: "degrees", dim: i, message: `op \`${op.name}\`: degree ${deg} of dim \`${dim.name}\` is not a positive integer`, expected: "an integer ≥ 1" });
      return;
    }
    tasks *= deg;
    if (deg > dim.size) {
      out.push({
        code: "PAR3155",
        field: "degrees",
        dim: i,
        message: `op \`${op.name}\`: degree ${deg} of dim \`${dim.name}\` exceeds its size ${dim.size}`,
        expected: `a degree between 1 and ${dim.size}`,
        hint: "a degree that does not divide the size is allowed (uneven parts), but every part must be non-empty",
      });
    }
    if (dim.splittable === false && deg !== 1) {
      out.push({
        code: "PAR3156",
        field: "degrees",
        dim: i,
        message: `op \`${op.name}\`: dim \`${dim.name}\` cannot be split, but its degree is ${deg}`,
        expected: "degree 1",
        hint: `the \`${op.op}\` kernel needs the whole \`${dim.name}\` dim in one task`,
      });
    }
  });
  if (!Array.isArray(config.devices)) {
    out.push({ code: "PAR3154", field: "devices", message: `op \`${op.name}\`: its config has no device list`, expected: "one device per task" });
    return out;
  }
  if (degreesOk && config.devices.length !== tasks) {
    out.push({
      code: "PAR3154",
      field: "devices",
      message: `op \`${op.name}\`: ${config.devices.length} device${config.devices.length === 1 ? "" : "s"} for ${tasks} task${tasks === 1 ? "" : "s"} (degrees ${config.degrees.join(" × ")})`,
      expected: `${tasks} device indices, one per task in row-major order over the degrees`,
    });
  }
  const bad = config.devices.filter((d) => !Number.isSafeInteger(d) || d < 0 || d >= deviceCount);
  if (bad.length > 0) {
    out.push({
      code: "PAR3157",
      field: "devices",
      message: `op \`${op.name}\`: device${bad.length === 1 ? "" : "s"} ${[...new Set(bad)].join(", ")} outside the mesh (devices 0..${deviceCount - 1})`,
      expected: `device indices 0..${deviceCount - 1}`,
    });
  }
  return out;
}

/**
 * Validates `strategy` for `graph` on `mesh`, reporting into `diagnostics`. Returns true
 * when no error was found (warnings about a different model or mesh name do not count).
 */
export function validateStrategy(graph: Graph, mesh: Mesh, strategy: Strategy, diagnostics: Diagnostics): boolean {
  const before = diagnostics.errors.length;
  if (strategy.model !== graph.name) {
    diagnostics.warning("PAR3158", `strategy \`${strategy.name}\` was written for model \`${strategy.model}\`, but is applied to \`${graph.name}\``, {
      hint: "op names may match by accident; check that this is the intended strategy",
    });
  }
  if (strategy.mesh !== mesh.name) {
    diagnostics.warning("PAR3159", `strategy \`${strategy.name}\` was written for mesh \`${strategy.mesh}\`, but is applied to \`${mesh.name}\``, {
      hint: "device indices mean different devices on a different mesh",
    });
  }
  const missing: string[] = [];
  for (const op of graph.topoOrder()) {
    const config = Object.prototype.hasOwnProperty.call(strategy.ops, op.name) ? strategy.ops[op.name] : undefined;
    if (!config) {
      missing.push(op.name);
      continue;
    }
    for (const p of opConfigProblems(op, config, mesh.devices.length)) diagnostics.error(p.code, p.message, { expected: p.expected, hint: p.hint });
  }
  if (missing.length > 0) {
    // One diagnostic for all of them: an empty strategy should not print a hundred lines.
    diagnostics.error("PAR3150", `strategy \`${strategy.name}\` has no config for ${missing.length} op${missing.length === 1 ? "" : "s"} of \`${graph.name}\`: ${listNames(missing)}`, {
      expected: "a config for every op of the model",
    });
  }
  for (const name of Object.keys(strategy.ops)) {
    if (!graph.ops.has(name)) {
      diagnostics.error("PAR3151", `strategy \`${strategy.name}\` configures \`${name}\`, which is not an op of \`${graph.name}\``, {
        hint: didYouMean(name, graph.ops.keys()),
      });
    }
  }
  for (const p of groupOpProblems(scaleProblems(graph, mesh, strategy))) {
    const extras = { expected: p.expected, hint: p.hint };
    if (p.severity === "error") diagnostics.error(p.code, p.message, extras);
    else diagnostics.warning(p.code, p.message, extras);
  }
  return diagnostics.errors.length === before;
}

/**
 * The same problem for many ops (a `*` rule, a whole stage) as one problem that names the
 * first op and counts the rest: a 1,000-op model should not print 1,000 lines.
 */
export function groupOpProblems(problems: readonly ScaleProblem[]): ScaleProblem[] {
  const out: ScaleProblem[] = [];
  const groups = new Map<string, { first: ScaleProblem; more: string[] }>();
  for (const p of problems) {
    if (p.subject.kind !== "op") {
      out.push(p);
      continue;
    }
    const key = `${p.code}|${p.subject.dim ?? ""}`;
    const g = groups.get(key);
    if (g) g.more.push(p.subject.op);
    else {
      const first = { ...p };
      groups.set(key, { first, more: [] });
      out.push(first);
    }
  }
  for (const { first, more } of groups.values()) {
    if (more.length > 0) first.message += ` (the same for ${more.length} more op${more.length === 1 ? "" : "s"}: ${listNames(more)})`;
  }
  return out;
}
