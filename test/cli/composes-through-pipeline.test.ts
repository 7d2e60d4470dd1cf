// src/pipeline.ts is the only composer of load → search → compile → execute → verify: the
// commands (and the library entry point) call its stages, never the modules behind them.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });
}

/** The functions behind the stages, by the module that owns them. */
const STAGE_INTERNALS = [
  "loadModel", // frontend/load-model.ts (load)
  "readPlan", // plan/io.ts (loadPlan)
  "searchStrategy", // search/search.ts (search)
  "simulateWithContention", // sim/contention.ts (simulate)
  "lower", // codegen/lower.ts (compile)
  "referencePlan", // codegen/reference.ts (reference)
  "runPlan", // runtime/workers/run-workers.ts (execute)
  "verifyPlan", // runtime/exec/verify.ts (verify)
  "initBackend", // runtime/backend.ts (verify, profile)
  "profilePlanUnderLoad", // runtime/profile (profile)
  "profilePlanInRun",
  "profileFromTimeline",
  "runPlanTorch", // engines/torch (execute, verify, profile, export)
  "verifyPlanTorch",
  "profilePlanTorch",
  "exportTorchJob",
  "torchEngine", // the engines behind selectEngine
  "tfjsEngine",
];

/** `par check` reads every model of a file, not one model down the road: it loads on its own. */
const EXEMPT = new Set(["src/cli/commands/check.ts:loadModel"]);

describe("the CLI composes through src/pipeline.ts", () => {
  it("no command (nor the library entry point) calls a stage's internals", () => {
    const calls: string[] = [];
    for (const f of [...files(join(ROOT, "src", "cli")), join(ROOT, "src", "index.ts")]) {
      const rel = relative(ROOT, f);
      const text = readFileSync(f, "utf8");
      for (const name of STAGE_INTERNALS) {
        if (new RegExp(`\\b${name}\\(`).test(text) && !EXEMPT.has(`${rel}:${name}`)) calls.push(`${rel}: ${name}`);
      }
    }
    expect(calls).toEqual([]);
  });

  it("the check catches a command that composes on its own", () => {
    const planted = "const r = searchStrategy(graph, mesh, { budget, seed });";
    expect(STAGE_INTERNALS.some((name) => new RegExp(`\\b${name}\\(`).test(planted))).toBe(true);
  });
});
