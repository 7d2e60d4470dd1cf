import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureWorkerBuild } from "../runtime/ensure-build.js";
import { cli, scratch, SMALL_MLP } from "./cli-helpers.js";

describe("par run", () => {
  const dir = scratch();
  const plan = join(dir, "mlp.plan.json");
  beforeAll(async () => {
    ensureWorkerBuild();
    expect((await cli("compile", ...SMALL_MLP, "--strategy", "dp", "--out", plan)).code).toBe(0);
  }, 180_000);

  it("trains a plan file on workers: per-step loss and time, the backend named", async () => {
    const r = await cli("run", plan, "--steps", "2", "--backend", "cpu");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^plan: model mlp, strategy dp on local/);
    expect(r.out).toMatch(/step 1 {2}loss \d+\.\d+ {2}\d+\.\d+ ms\nstep 2 {2}loss/);
    expect(r.out).toMatch(/backend: cpu \(@tensorflow\/tfjs-backend-cpu\)/);
  });

  it("a .par model with --json and --trace: measured and predicted timelines in one trace", async () => {
    const trace = join(dir, "trace.json");
    const r = await cli("run", ...SMALL_MLP, "--strategy", "dp", "--steps", "2", "--json", "--trace", trace);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.losses).toHaveLength(2);
    expect(j.stepTimesMs).toHaveLength(2);
    expect(["tensorflow", "wasm", "cpu"]).toContain(j.backend);
    expect(j.tracePredicted).toBe(true);
    const t = JSON.parse(readFileSync(trace, "utf8"));
    const names = t.traceEvents.filter((e: { name: string }) => e.name === "process_name").map((e: { args: { name: string } }) => e.args.name);
    expect(names).toEqual(["predicted (simulator)", `measured (${j.backend})`]);
    const measured = t.traceEvents.filter((e: { pid: number; ph: string; cat: string }) => e.pid === 1 && e.ph === "X" && e.cat === "forward");
    expect(measured.length).toBeGreaterThan(0);
    expect(t.traceEvents.some((e: { pid: number; ph: string }) => e.pid === 0 && e.ph === "X")).toBe(true);
  });

  it("usage errors: unknown backend, a file that is neither .par nor .json", async () => {
    const a = await cli("run", plan, "--backend", "cuda");
    expect(a.code).toBe(2);
    expect(a.err).toMatch(/unknown backend cuda/);
    expect((await cli("run", "README.md")).code).toBe(2);
  });
});
