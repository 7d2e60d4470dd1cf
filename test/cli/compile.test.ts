import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Diagnostics } from "../../src/core/diagnostics.js";
import { readPlan } from "../../src/plan/io.js";
import { cli, scratch, SMALL_MLP } from "./cli-helpers.js";

describe("par compile", () => {
  const dir = scratch();

  it("lowers a baseline strategy to a valid plan file", async () => {
    const out = join(dir, "dp.plan.json");
    const r = await cli("compile", ...SMALL_MLP, "--mesh", "local", "--strategy", "dp", "--optimizer", "adam", "--seed", "5", "--out", out, "--json");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.out);
    expect(summary).toMatchObject({ model: "mlp", strategy: "dp", mesh: "local", optimizer: "adam", seed: 5 });
    const d = new Diagnostics();
    const plan = readPlan(out, d);
    expect(d.items).toEqual([]);
    expect(plan!.programs.length).toBe(summary.devices);
    expect(plan!.optimizer.kind).toBe("adam");
    expect(JSON.parse(readFileSync(out, "utf8")).format).toBe("par-plan");
  });

  it("searches when no strategy is given", async () => {
    const out = join(dir, "searched.plan.json");
    const r = await cli("compile", ...SMALL_MLP, "--budget", "50", "--out", out);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^wrote .*searched\.plan\.json: model mlp, strategy \S+ on local/);
  });

  it("usage errors: no --out, unknown strategy, --strategy with --search", async () => {
    expect((await cli("compile", ...SMALL_MLP, "--strategy", "dp")).code).toBe(2);
    const bad = await cli("compile", ...SMALL_MLP, "--strategy", "dpp", "--out", join(dir, "x.json"));
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/unknown strategy dpp/);
    expect((await cli("compile", ...SMALL_MLP, "--strategy", "dp", "--search", "--out", join(dir, "y.json"))).code).toBe(2);
  });
});

describe("--budget is parsed the same way by every command that searches", () => {
  const dir = scratch();

  it("par compile --search takes a duration (500ms) as par search does", async () => {
    const out = join(dir, "timed.plan.json");
    const r = await cli("compile", ...SMALL_MLP, "--search", "--budget", "500ms", "--out", out);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
  });

  it("a malformed budget is PAR7002 with a hint (exit 2) in compile, search and auto alike", async () => {
    for (const command of ["compile", "search", "auto"]) {
      const out = command === "compile" ? ["--out", join(dir, "never.json")] : [];
      const r = await cli(command, ...SMALL_MLP, "--budget", "fast", ...out);
      expect(r.code, command).toBe(2);
      expect(r.err, command).toMatch(/PAR7002/);
      expect(r.err, command).toMatch(/hint: write an iteration count \(20000: deterministic\) or a duration \(500ms, 10s, 2m\)/);
    }
  });

  it("the help of every searching command names the one default", async () => {
    for (const command of ["compile", "search", "auto", "run", "verify"]) {
      const r = await cli(command, "--help");
      expect(r.out, command).toMatch(/--budget N\|DURATION\s+search budget: .*; default 4000 iterations/);
    }
  });
});
