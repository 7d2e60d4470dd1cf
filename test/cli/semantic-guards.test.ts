// Commands that would run and say something untrue refuse instead (issue 20): a model
// without a loss is not "trained" to loss 0 (row 8), a plan edited by hand is rejected at
// load (row 10), a plan with empty programs fails at once (row 11).
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { Plan } from "../../src/plan/plan.js";
import { runCli } from "../../src/cli/main.js";
import { captureIo, scratch, SMALL_MLP } from "./cli-helpers.js";

const ROOT = join(import.meta.dirname, "..", "..");
const dir = scratch();

async function par(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo(dir);
  const code = await runCli(argv, io);
  return { code, out: io.stdout, err: io.stderr };
}

const NO_LOSS = "model m(batch = 8) {\n  input x : f32[batch, 16]\n  y = linear(relu(linear(x, out = 16)), out = 4)\n}\n";

describe("a model without a loss", () => {
  beforeAll(() => writeFileSync(join(dir, "noloss.par"), NO_LOSS));

  it("cannot be trained: auto, compile, run, verify and profile stop with PAR5021 before searching", async () => {
    for (const argv of [["auto", "noloss.par"], ["compile", "noloss.par", "--out", "p.json"], ["run", "noloss.par"], ["verify", "noloss.par"], ["profile", "noloss.par", "--out", "c.json"]]) {
      const r = await par(...argv);
      expect(r.code, argv.join(" ")).toBe(1);
      expect(r.err).toContain("error PAR5021: model `m` has no loss");
      expect(r.err).toContain("hint: end the model with a loss");
      expect(r.err).not.toContain("PAR5022"); // it failed before the search
      expect(r.out).not.toMatch(/loss 0\.0|verify ok/);
    }
  });

  it("can be simulated and searched, with a warning saying what was priced (PAR5022)", async () => {
    const sim = await par("simulate", "noloss.par");
    expect(sim.code).toBe(0);
    expect(sim.err).toContain("warning PAR5022: model `m` has no loss: the iteration is priced with every op's backward and update");
    const search = await par("search", "noloss.par", "--mesh", "local", "--budget", "20");
    expect(search.code).toBe(0);
    expect(search.err.match(/PAR5022/g)).toHaveLength(1);
  });
});

describe("a plan file edited by hand", () => {
  let plan: Plan;
  beforeAll(async () => {
    const io = captureIo(ROOT);
    expect(await runCli(["compile", ...SMALL_MLP, "--strategy", "dp", "--out", join(dir, "mlp.plan.json")], io)).toBe(0);
    plan = JSON.parse(readFileSync(join(dir, "mlp.plan.json"), "utf8")) as Plan;
  });

  it("an input shape that no longer matches its ops is rejected at load with PAR5023 (run, verify)", async () => {
    const edited = structuredClone(plan);
    edited.tensors.find((t) => t.id === "x")!.shape[1] = 2 * 784;
    writeFileSync(join(dir, "edited.plan.json"), JSON.stringify(edited));
    for (const cmd of ["run", "verify"]) {
      const r = await par(cmd, "edited.plan.json", "--steps", "1");
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/edited\.plan\.json:1:\d+: error PAR5023: `\/ops\/0\/params\/0`: tensor h\.linear\.weight is f32\[784, 16\], but h\.linear \(linear\) makes f32\[1568, 16\] from x \[8, 1568\]/);
    }
  });

  it("empty programs fail at once with PAR5025 instead of training nothing, whatever --timeout says", async () => {
    const empty = structuredClone(plan);
    for (const p of empty.programs) p.instructions = [];
    writeFileSync(join(dir, "empty.plan.json"), JSON.stringify(empty));
    const none = { ...structuredClone(plan), programs: [] };
    writeFileSync(join(dir, "none.plan.json"), JSON.stringify(none));
    const t0 = performance.now();
    const r = await par("run", "empty.plan.json", "--steps", "1", "--timeout", "2");
    expect(r.code).toBe(1);
    expect(r.err).toContain("error PAR5025: `/programs`: no program computes the plan's loss (loss): a step would do nothing");
    const n = await par("run", "none.plan.json", "--steps", "1", "--timeout", "2");
    expect(n.code).toBe(1);
    expect(n.err).toContain("error PAR5024: `/devices/0`: device 0 has no program");
    expect(performance.now() - t0).toBeLessThan(5000);
  });
});
