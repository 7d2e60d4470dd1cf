// `par strategy export|import` and `par diff` with the large-scale fields (strategy format v2).
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/main.js";
import { captureIo as io } from "./cli-helpers.js";

const MODEL = `model tiny(batch = 8) {
  input x : f32[batch, 6]
  input labels : i32[batch]
  h = relu(linear(x, out = 4))
  loss = softmax_cross_entropy(linear(h, out = 3), labels)
}

strategy dp for tiny on p100x16 {
  * : sample = 4
}

strategy piped for tiny on p100x16 {
  replicas = 2
  zero = 1
  precision = f16
  pipeline(microbatches = 2, schedule = gpipe) {
    h.linear .. h
    loss.linear .. loss
  }
  * : sample = 2
  h : recompute = true
}
`;

function setup(): string {
  const dir = mkdtempSync(join(tmpdir(), "par-strategy-v2-"));
  writeFileSync(join(dir, "tiny.par"), MODEL);
  return dir;
}

describe("par strategy with pipelines, replicas, ZeRO, recomputation and precision", () => {
  it("export writes version 2; import prints the canonical block (here the even cut by parameters)", async () => {
    const dir = setup();
    const a = io(dir);
    expect(await runCli(["strategy", "export", join(dir, "tiny.par"), "--name", "piped", "--out", "piped.json"], a)).toBe(0);
    expect(a.stderr).toBe("");
    const json = JSON.parse(readFileSync(join(dir, "piped.json"), "utf8"));
    expect(json.version).toBe(2);
    expect(json.replicas).toEqual({ count: 2, offset: 8 });
    expect(json.pipeline).toEqual({ microbatches: 2, schedule: "gpipe", stages: [{ ops: ["h.linear", "h"], devices: "0..3" }, { ops: ["loss.linear", "loss"], devices: "4..7" }] });
    expect(json.recompute).toEqual(["h"]);
    expect(json.ops["loss.linear"]).toEqual({ dims: { sample: 2 }, devices: [4, 5] });
    const b = io(dir);
    expect(await runCli(["strategy", "import", "piped.json", "--model-file", join(dir, "tiny.par")], b)).toBe(0);
    expect(b.stdout).toBe(`strategy piped for tiny on p100x16 {
  replicas = 2, offset = 8
  zero = 1
  precision = f16
  pipeline(microbatches = 2, schedule = gpipe, stages = 2, balance = params)
  * : sample = 2
  h : recompute = true
}
`);
    // Without large-scale fields the file stays version 1.
    const c = io(dir);
    expect(await runCli(["strategy", "export", join(dir, "tiny.par"), "--name", "dp"], c)).toBe(0);
    expect(JSON.parse(c.stdout).version).toBe(1);
  });

  it("diff explains the strategy-wide differences, in text and JSON", async () => {
    const dir = setup();
    for (const name of ["dp", "piped"]) expect(await runCli(["strategy", "export", join(dir, "tiny.par"), "--name", name, "--out", `${name}.json`], io(dir))).toBe(0);
    const d = io(dir);
    expect(await runCli(["diff", "dp.json", "piped.json", "--model-file", join(dir, "tiny.par"), "--mesh", "p100x16"], d)).toBe(0);
    expect(d.stderr).toBe("");
    expect(d.stdout).toContain(`strategy-wide (A → B):
  replicas   1 (no replicas) → 2 replicas, 8 devices apart
  pipeline   none → 2 stages, 2 micro-batches, gpipe
  zero       0 (off) → 1 (optimizer state sharded)
  recompute  0 ops recomputed → 1 op recomputed
               + \`h\`
  precision  f32 → f16
`);
    const j = io(dir);
    expect(await runCli(["diff", "dp.json", "piped.json", "--model-file", join(dir, "tiny.par"), "--mesh", "p100x16", "--json"], j)).toBe(0);
    expect(JSON.parse(j.stdout).strategy.map((c: { what: string }) => c.what)).toEqual(["replicas", "pipeline", "zero", "recompute", "precision"]);
  });
});
