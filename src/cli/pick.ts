// Resolving `--mesh` and `--strategy` the same way in every command: a name declared in
// the model file, a built-in mesh or baseline, or another file (.par with one mesh or one
// strategy for the model, or a strategy .json).

import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { builtinMesh, builtinMeshNames } from "../core/builtin-meshes.js";
import { didYouMean, type Diagnostics } from "../core/diagnostics.js";
import type { Mesh } from "../core/mesh.js";
import type { CheckedProgram } from "../frontend/check.js";
import { loadProgram } from "../frontend/load.js";
import { baseline, BASELINE_KINDS, type BaselineKind } from "../ir/baselines.js";
import type { Graph } from "../ir/graph.js";
import type { Strategy } from "../ir/strategy.js";
import { readStrategyFile } from "../ir/strategy-json.js";
import { INPUT_LIMITS, readTextFile } from "../core/read-text.js";
import { resolveStrategyDecl } from "../frontend/strategy-par.js";
import { UsageError } from "./args.js";
import type { CommandContext } from "./command.js";

/** What a model file declares besides its models (nothing, for an imported model). */
export type Decls = Pick<CheckedProgram, "meshes" | "strategies">;
export const NO_DECLS: Decls = { meshes: new Map(), strategies: [] };

/**
 * The mesh a `--strategy SPEC` was written for: a declared strategy's `on MESH`, a strategy
 * .json file's `mesh`; undefined for baselines, .par files and files that do not say (or
 * cannot be read: resolving the strategy reports that).
 */
export function strategyMeshName(spec: string, decls: Pick<Decls, "strategies">, cwd: string): string | undefined {
  const decl = decls.strategies.find((s) => s.name === spec);
  if (decl) return decl.mesh;
  if (!/\.json$/.test(spec) || !existsSync(resolve(cwd, spec))) return undefined;
  try {
    const mesh = (JSON.parse(readTextFile(resolve(cwd, spec), spec, INPUT_LIMITS.json)) as { mesh?: unknown }).mesh;
    return typeof mesh === "string" ? mesh : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `--mesh SPEC`. Without SPEC: the mesh the `--strategy` was written for when it names one
 * par knows (declared or built in), else the file's only mesh when `preferDeclared` and it
 * declares exactly one (several is a usage error), else the built-in `fallback`.
 */
export function resolveMesh(
  spec: string | undefined,
  decls: Pick<Decls, "meshes"> & Partial<Pick<Decls, "strategies">>,
  ctx: CommandContext,
  diagnostics: Diagnostics,
  options: { fallback: string; preferDeclared: boolean; strategy?: string },
): Mesh | undefined {
  if (spec === undefined && options.strategy !== undefined) {
    const name = strategyMeshName(options.strategy, { strategies: decls.strategies ?? [] }, ctx.io.cwd);
    const own = name === undefined ? undefined : (decls.meshes.get(name) ?? builtinMesh(name));
    if (own) return own;
  }
  if (spec === undefined) {
    if (options.preferDeclared && decls.meshes.size === 1) return [...decls.meshes.values()][0];
    if (options.preferDeclared && decls.meshes.size > 1) throw new UsageError(`the file declares ${decls.meshes.size} meshes; pick one with --mesh`, `meshes: ${[...decls.meshes.keys()].join(", ")}`);
    return builtinMesh(options.fallback);
  }
  const found = decls.meshes.get(spec) ?? builtinMesh(spec);
  if (found) return found;
  if (/\.par$/.test(spec)) {
    const other = loadProgram(resolve(ctx.io.cwd, spec), { sources: ctx.sources, diagnostics });
    if (!other || diagnostics.hasErrors()) return undefined;
    if (other.meshes.size !== 1) throw new UsageError(`${spec} declares ${other.meshes.size} meshes; --mesh FILE needs exactly one`);
    return [...other.meshes.values()][0];
  }
  throw new UsageError(`unknown mesh ${spec}`, didYouMean(spec, [...decls.meshes.keys(), ...builtinMeshNames()]) ?? `built-in meshes: ${builtinMeshNames().join(", ")}`);
}

/** `--strategy SPEC`: a baseline, a strategy declared in the model file, a .json or a .par file. */
export function resolveStrategy(spec: string, graph: Graph, mesh: Mesh, decls: Decls, file: string, ctx: CommandContext, diagnostics: Diagnostics): Strategy | undefined {
  if ((BASELINE_KINDS as readonly string[]).includes(spec)) return baseline(spec as BaselineKind, graph, mesh);
  const decl = decls.strategies.find((s) => s.name === spec);
  if (decl) {
    if (decl.mesh !== mesh.name) {
      diagnostics.warning("PAR3159", `strategy \`${decl.name}\` is declared on mesh \`${decl.mesh}\`; it is resolved on \`${mesh.name}\` as --mesh asks`, {
        hint: `leave out --mesh to use \`${decl.mesh}\``,
      });
    }
    return resolveStrategyDecl(decl, graph, mesh, file, diagnostics);
  }
  if (/\.json$/.test(spec)) return readStrategyFile(graph, resolve(ctx.io.cwd, spec), diagnostics, spec);
  if (/\.par$/.test(spec)) {
    const other = loadProgram(resolve(ctx.io.cwd, spec), { sources: ctx.sources, diagnostics });
    if (!other || diagnostics.hasErrors()) return undefined;
    const mine = other.strategies.filter((s) => s.model === graph.name);
    if (mine.length !== 1) throw new UsageError(`${spec} has ${mine.length} strategies for model ${graph.name}; name one with --strategy NAME`);
    return resolveStrategyDecl(mine[0], graph, mesh, spec, diagnostics);
  }
  throw new UsageError(`unknown strategy ${spec}`, didYouMean(spec, [...decls.strategies.map((s) => s.name), ...BASELINE_KINDS]) ?? `baselines: ${BASELINE_KINDS.join(", ")}; or a strategy .json/.par file`);
}
