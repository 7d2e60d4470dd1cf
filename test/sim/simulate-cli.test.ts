import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli } from "../cli/cli-helpers.js";

describe("par simulate", () => {
  it("prints iteration time, split, bytes per link class, memory per device and top ops", async () => {
    const { code, out, err } = await cli("simulate", "models/mlp.par", "--mesh", "p100x16", "--strategy", "dp");
    expect(err).toBe("");
    expect(code).toBe(0);
    expect(out).toMatch(/^mlp \/ dp on p100x16 \(16 devices, \d+ tasks\)/);
    expect(out).toMatch(/iteration time\s+\S+/);
    expect(out).toContain("bytes moved");
    expect(out).toContain("device  15");
    expect(out).toContain("most expensive ops");
  });

  it("--json has the documented fields; --trace writes a Chrome trace", async () => {
    const dir = mkdtempSync(join(tmpdir(), "par-sim-"));
    const trace = join(dir, "t.json");
    const { code, out } = await cli("simulate", "models/mlp.par", "--mesh", "p100x16", "--strategy", "mp", "--json", "--trace", trace, "--set", "batch=32");
    expect(code).toBe(0);
    const j = JSON.parse(out);
    expect(j.iterationTimeMs).toBeGreaterThan(0);
    expect(j.computeMs).toBeGreaterThan(0);
    expect(typeof j.commMs).toBe("number");
    expect(typeof j.bytesTransferred).toBe("object");
    expect(j.peakMemoryBytes).toHaveLength(16);
    expect(j.topOps.length).toBeLessThanOrEqual(10);
    const t = JSON.parse(readFileSync(trace, "utf8"));
    expect(t.traceEvents.some((e: { ph: string }) => e.ph === "X")).toBe(true);
  });

  it("rejects an unknown strategy with a usage error", async () => {
    const { code, err } = await cli("simulate", "models/mlp.par", "--mesh", "p100x16", "--strategy", "dq");
    expect(code).toBe(2);
    expect(err).toContain("unknown strategy dq");
  });
});
