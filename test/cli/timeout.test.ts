// `--timeout S` bounds every wait of a run on workers, their start included (issue 20, row
// 11: a stalled start waited 60 s whatever --timeout said). The worker runner itself is
// tested with stalled starts in test/runtime/codes-runtime.test.ts; here: that each
// command hands --timeout to both of its bounds.
import { describe, expect, it, vi } from "vitest";
import { ParError } from "../../src/core/diagnostics.js";
import type { WorkerRunOptions } from "../../src/runtime/workers/run-workers.js";
import { cli, SMALL_MLP } from "./cli-helpers.js";

const seen: WorkerRunOptions[] = [];

vi.mock("../../src/runtime/workers/run-workers.js", async (importOriginal) => ({
  ...(await importOriginal<typeof import("../../src/runtime/workers/run-workers.js")>()),
  runPlan: async (_plan: unknown, options: WorkerRunOptions) => {
    seen.push(options);
    throw new ParError([{ code: "PAR5106", severity: "error", message: "device(s) 0 did not start (stand-in)" }]);
  },
}));

describe("--timeout", () => {
  it("bounds the start and every wait of `par run` and `par verify --workers`", async () => {
    for (const argv of [["run", ...SMALL_MLP, "--strategy", "dp", "--timeout", "3"], ["verify", ...SMALL_MLP, "--strategy", "dp", "--workers", "--steps", "1", "--timeout", "3"]]) {
      seen.length = 0;
      const r = await cli(...argv);
      expect(r.code).toBe(1);
      expect(r.err).toContain("PAR5106");
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatchObject({ timeoutMs: 3000, startupTimeoutMs: 3000 });
    }
  });
});
