// `par report` as a command: it writes one page for every shipped model (default strategy
// and mesh) and for plan files, says in the page what a plan alone cannot show, and turns
// wrong calls into usage errors or coded diagnostics.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli, scratch, SMALL_MLP } from "../cli/cli-helpers.js";

/** The ReportData a page embeds. */
function embedded(file: string): { model: string; strategy?: string; mesh?: { devices: number }; graph: { ops: unknown[] }; timeline: { missing?: string; predicted?: { devices: unknown[] } }; memory: { missing?: string }; comparison: { missing?: string; note?: string; result?: { speedup: number } } } {
  const html = readFileSync(file, "utf8");
  const m = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html);
  if (!m) throw new Error(`${file} embeds no report data`);
  return JSON.parse(m[1]);
}

describe("par report", () => {
  const models = readdirSync("models").filter((f) => f.endsWith(".par")).sort();
  it("covers the shipped models", () => expect(models.length).toBeGreaterThanOrEqual(12));
  // One test per model: the default mesh, `local`, has a device per core, so a large model
  // on a large machine takes a while.
  const pages = scratch();
  it.each(models)("writes a page for %s with the default strategy and mesh", async (f) => {
    const out = join(pages, f.replace(/\.par$/, ".html"));
    const r = await cli("report", `models/${f}`, "--out", out, "--json");
    expect(r.code, `${f}: ${r.err}`).toBe(0);
    const summary = JSON.parse(r.out);
    const data = embedded(out);
    expect(summary.missing).toEqual([]);
    expect(data.graph.ops.length).toBe(summary.ops);
    expect(data.strategy).toBe("dp");
    expect(data.timeline.predicted!.devices.length).toBe(data.mesh!.devices);
  });

  it("reports a plan; a plan whose mesh is not built in says so in the sections that need it", async () => {
    const dir = scratch();
    const plan = join(dir, "mlp.plan.json");
    expect((await cli("compile", ...SMALL_MLP, "--mesh", "p100x16", "--strategy", "mp", "--out", plan)).code).toBe(0);
    const out = join(dir, "plan.html");
    const r = await cli("report", plan, "--out", out);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^wrote .*plan\.html: mlp \/ mp on p100x16, 6 ops in \d+ configurations\npredicted iteration .*, \d+\.\d\d× data parallelism's speed\n$/);
    const data = embedded(out);
    expect(data.timeline.predicted!.devices.length).toBe(16);
    expect(data.comparison.result!.speedup).toBeGreaterThan(0);
    // The same plan renamed to a mesh par does not know.
    const json = JSON.parse(readFileSync(plan, "utf8"));
    json.mesh = "cluster9";
    const other = join(dir, "other.plan.json");
    writeFileSync(other, JSON.stringify(json));
    const out2 = join(dir, "other.html");
    const r2 = await cli("report", other, "--out", out2, "--json");
    expect(r2.code, r2.err).toBe(0);
    expect(JSON.parse(r2.out).missing).toEqual(["timeline", "memory", "communication", "comparison"]);
    const d2 = embedded(out2);
    expect(d2.graph.ops.length).toBe(6);
    expect(d2.timeline.missing).toBe("No prediction: the plan was compiled for mesh cluster9, which is not built in; give it with --mesh FILE.par.");
    // --mesh supplies it (and must have the plan's device count: PAR4054).
    expect((await cli("report", other, "--mesh", "p100x16", "--out", out2)).code).toBe(0);
    expect(embedded(out2).memory.missing).toBeUndefined();
    const bad = await cli("report", other, "--mesh", "v100x8", "--out", out2);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/error PAR4054: mesh v100x8 has 8 devices; the plan runs on 16/);
  });

  it("turns wrong calls into usage errors and coded diagnostics", async () => {
    const dir = scratch();
    const noOut = await cli("report", "models/mlp.par");
    expect(noOut.code).toBe(2);
    expect(noOut.err).toMatch(/report needs --out REPORT\.html/);
    mkdirSync(join(dir, "folder"));
    const isDir = await cli("report", "models/mlp.par", "--out", join(dir, "folder"));
    expect(isDir.code).toBe(1);
    expect(isDir.err).toMatch(/PAR4002/);
    const both = await cli("report", ...SMALL_MLP, "--strategy", "mp", "--search", "--out", join(dir, "x.html"));
    expect(both.code).toBe(2);
    const plan = join(dir, "p.json");
    expect((await cli("compile", ...SMALL_MLP, "--strategy", "dp", "--out", plan)).code).toBe(0);
    const planFlags = await cli("report", plan, "--strategy", "mp", "--out", join(dir, "x.html"));
    expect(planFlags.code).toBe(2);
    expect(planFlags.err).toMatch(/--strategy applies to a model FILE/);
    const notTrace = await cli("report", ...SMALL_MLP, "--trace", plan, "--out", join(dir, "x.html"));
    expect(notTrace.code).toBe(1);
    expect(notTrace.err).toMatch(/PAR4050/);
    const simTrace = join(dir, "sim.json");
    expect((await cli("simulate", ...SMALL_MLP, "--trace", simTrace)).code).toBe(0);
    const predictedOnly = await cli("report", ...SMALL_MLP, "--trace", simTrace, "--out", join(dir, "x.html"));
    expect(predictedOnly.code).toBe(1);
    expect(predictedOnly.err).toMatch(/PAR4051/);
    const same = await cli("report", ...SMALL_MLP, "--trace", join(dir, "x.html"), "--out", join(dir, "x.html"));
    expect(same.code).toBe(2);
    // Nothing was written by the failed calls.
    expect(existsSync(join(dir, "x.html"))).toBe(false);
  });

  it("`--strategy searched` searches, and the page explains the result against data parallelism", async () => {
    const dir = scratch();
    const out = join(dir, "s.html");
    const r = await cli("report", "models/mlp.par", "--mesh", "p100x16", "--strategy", "searched", "--budget", "200", "--out", out, "--json");
    expect(r.code, r.err).toBe(0);
    const data = embedded(out);
    expect(data.strategy).toBe("searched");
    expect(data.comparison.result!.speedup).toBe(JSON.parse(r.out).speedupOverDp);
    expect(data.comparison.note).toBeUndefined();
  });
});
