// Worker threads cannot load TypeScript, so tests that spawn device workers run the
// compiled worker (dist/src/runtime/workers/worker.js, see workerScript()); tests of the
// package as users import it run dist/src/index.js. This rebuilds dist when a source is
// newer than what such a test runs (npm ci builds it via `prepare`).
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { workerScript } from "../../src/runtime/workers/run-workers.js";

function newestSource(dirs: string[]): number {
  let t = 0;
  for (const d of dirs) {
    for (const f of readdirSync(d, { recursive: true }) as string[]) {
      if (f.endsWith(".ts")) t = Math.max(t, statSync(join(d, f)).mtimeMs);
    }
  }
  return t;
}

/** Rebuilds dist when `output` is missing or older than any source under `sourceDirs`. */
function ensureBuilt(output: string, sourceDirs: string[]): void {
  const stale = !existsSync(output) || statSync(output).mtimeMs < newestSource(sourceDirs);
  if (!stale) return;
  try {
    execFileSync("npx", ["tsc", "-p", "tsconfig.json"], { stdio: "pipe" });
  } catch {
    // Type errors elsewhere in the tree do not stop tsc from emitting; only a missing output does.
  }
  if (!existsSync(output)) throw new Error(`could not build ${output}`);
}

export function ensureWorkerBuild(): void {
  ensureBuilt(workerScript(), ["src/runtime", "src/ops", "src/core", "src/codegen", "src/plan"]);
}

/** The package entry point (dist/src/index.js) is built from every source of src/. */
export function ensurePackageBuild(): void {
  ensureBuilt(join("dist", "src", "index.js"), ["src"]);
}

/** The fuzz harness's worker (dist/fuzz/worker.js) runs the CLI and the test generators it reuses. */
export function ensureFuzzBuild(): void {
  ensureBuilt(join("dist", "fuzz", "worker.js"), ["fuzz", "src", "grammar", "test/support", "test/ir", "test/runtime"]);
}
