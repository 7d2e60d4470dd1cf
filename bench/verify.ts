// `npm run bench -- verify`: the central property (random graphs × random strategies
// verify against one device) at ≥ 1,000 cases, through the same vitest property file CI
// runs at 100 cases. Reports the case count, the worst errors seen and the wall time.
import { spawnSync } from "node:child_process";
import { repoRoot } from "./paths.js";

export async function runVerifyBench(cases = Number(process.env.PAR_VERIFY_CASES ?? 1000)): Promise<string> {
  const t0 = Date.now();
  const r = spawnSync("npx", ["vitest", "run", "test/runtime/strategies.property.test.ts", "--reporter=dot"], {
    cwd: repoRoot(),
    env: { ...process.env, PAR_RUNS: String(cases), PAR_RUNS_WASM: String(Math.max(12, Math.floor(cases / 20))), CI: "true" },
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  const seconds = (Date.now() - t0) / 1000;
  const out = `${r.stdout}\n${r.stderr}`;
  const lines = [...out.matchAll(/strategies property: .*/g)].map((m) => m[0]);
  const status = r.status === 0 ? "all verified" : `FAILED (exit ${r.status})\n${out.slice(-4000)}`;
  return [`requested: ${cases} cpu cases + ${Math.max(12, Math.floor(cases / 20))} wasm cases`, ...lines, `result: ${status}`, `wall time: ${seconds.toFixed(1)} s`].join("\n");
}
