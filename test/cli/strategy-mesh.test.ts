// A strategy written for a mesh brings its mesh when --mesh is not given (issue 20, row 14:
// `par simulate` used the default mesh for a strategy declared `on p100x16`), in every
// command that takes --strategy; an explicit --mesh wins, with warning PAR3159.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/main.js";
import { captureIo, scratch } from "./cli-helpers.js";

const ROOT = join(import.meta.dirname, "..", "..");
const dir = scratch();
const MODEL = `model mlp(batch = 32, hidden = 16) {
  input x : f32[batch, 784]
  input labels : i32[batch]
  h = relu(linear(x, out = hidden))
  logits = linear(h, out = 10)
  loss = softmax_cross_entropy(logits, labels)
}

strategy wide for mlp on p100x16 {
  * : sample = 16
}
`;

async function par(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo(dir);
  const code = await runCli(argv, io);
  return { code, out: io.stdout, err: io.stderr };
}

describe("--strategy brings its mesh", () => {
  beforeAll(() => writeFileSync(join(dir, "m.par"), MODEL));

  it("simulate: a strategy declared `on p100x16` is simulated on p100x16", async () => {
    const r = await par("simulate", "m.par", "--strategy", "wide", "--json");
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ mesh: "p100x16", devices: 16, strategy: "wide" });
  });

  it("compile: the plan is for the strategy's mesh", async () => {
    const r = await par("compile", "m.par", "--strategy", "wide", "--out", "wide.plan.json", "--json");
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, "wide.plan.json"), "utf8"))).toMatchObject({ mesh: "p100x16", strategy: "wide" });
  });

  it("a strategy .json file brings the mesh it names", async () => {
    const r = await par("simulate", join(ROOT, "models", "mlp.par"), "--strategy", join(ROOT, "strategies", "mlp-dp-p100x16.json"), "--json");
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ mesh: "p100x16", devices: 16 });
  });

  it("an explicit --mesh wins, and PAR3159 says the strategy was declared for another", async () => {
    const r = await par("simulate", "m.par", "--strategy", "wide", "--mesh", "k80x64", "--json");
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ mesh: "k80x64" });
    expect(r.err).toContain('"code": "PAR3159"');
  });
});
