// `par verify` on a plan .json that is not a usable plan: PAR5111, with exit code 1 and
// nothing run.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { cli, scratch, SMALL_MLP } from "./cli-helpers.js";

interface PlanJson {
  ops: { name: string; op: string; outputs: string[] }[];
  programs: { instructions: { kind: string; op?: string }[] }[];
}

describe("par verify: PAR5111", () => {
  const dir = scratch();
  let plan: PlanJson;
  beforeAll(async () => {
    const file = join(dir, "dp.plan.json");
    const r = await cli("compile", ...SMALL_MLP, "--strategy", "dp", "--out", file);
    expect(r.code).toBe(0);
    plan = JSON.parse(readFileSync(file, "utf8")) as PlanJson;
  }, 60_000);

  it("a corrupt plan whose op no longer re-infers to the plan's tensors", async () => {
    // Rename the first op (everywhere the plan names it): the plan still validates, but the
    // op's re-inferred output would be called after its new name, not its tensor in the plan.
    const p = structuredClone(plan);
    const op = p.ops[0];
    const old = op.name;
    op.name = "renamed_op";
    for (const prog of p.programs) for (const ins of prog.instructions) if (ins.op === old) ins.op = "renamed_op";
    const file = join(dir, "renamed.plan.json");
    writeFileSync(file, JSON.stringify(p));
    const r = await cli("verify", file, "--steps", "1", "--backend", "cpu");
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).toMatch(/PAR5111.*plan op renamed_op: output 0 is \S+, the model would call it renamed_op/);
  });

  it("a plan .json that cannot be read is PAR4001, like any file", async () => {
    const file = join(dir, "no-such.plan.json");
    const r = await cli("verify", file, "--steps", "1", "--backend", "cpu");
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/PAR4001: cannot read file `\S*no-such\.plan\.json`: no such file/);
  });
});
