// Worker threads cannot load TypeScript, so tests that spawn device workers run the
// compiled worker (dist/src/runtime/workers/worker.js, see workerScript()). This rebuilds dist
// when any runtime or op source is newer than it (npm ci builds it via `prepare`).
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

export function ensureWorkerBuild(): void {
  const script = workerScript();
  const stale = !existsSync(script) || statSync(script).mtimeMs < newestSource(["src/runtime", "src/ops", "src/core", "src/codegen", "src/plan"]);
  if (!stale) return;
  try {
    execFileSync("npx", ["tsc", "-p", "tsconfig.json"], { stdio: "pipe" });
  } catch {
    // Type errors elsewhere in the tree do not stop tsc from emitting; only a missing output does.
  }
  if (!existsSync(script)) throw new Error(`could not build ${script}`);
}
