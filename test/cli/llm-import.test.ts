// LLM configs from the command line: `par import config.json` (--json, --out, --set, --name),
// `par check` of the config and of the printed .par agree on the real models' parameter
// counts; a config searches like any model (on a built-in mesh: the a100x64-style meshes come
// from the mesh catalog); a small GQA LLaMA compiles under a searched strategy and verifies
// on the tfjs runtime and on the torch engine.
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { describeTorch } from "../engines/torch/support.js";
import { cli, scratch } from "./cli-helpers.js";

const dir = scratch();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const REAL: [string, number][] = [
  ["models/llm/gpt2.json", 124_439_808],
  ["models/llm/bert-base-uncased.json", 109_482_240],
  ["models/llm/llama-2-7b.json", 6_738_415_616],
  ["models/llm/llama-2-70b.json", 68_976_648_192],
];

const TINY = ["models/llm/tiny-llama.json", "--set", "batch=2"];

describe("par import / check of LLM configs", () => {
  for (const [file, count] of REAL) {
    it(`${file}: import --json, check --json and check of the printed .par give ${count.toLocaleString("en")}`, async () => {
      const imported = await cli("import", file, "--json");
      expect(imported.err).toBe("");
      expect(imported.code).toBe(0);
      const summary = JSON.parse(imported.out) as { format: string; parameters: number; par: string; ops: number };
      expect(summary).toMatchObject({ format: "llm", parameters: count });
      const checked = await cli("check", file, "--json");
      expect(checked.code).toBe(0);
      const models = (JSON.parse(checked.out) as { files: { models: { parameters: number; ops: number }[] }[] }).files[0].models;
      expect(models.map((m) => [m.parameters, m.ops])).toEqual([[count, summary.ops]]);
      const out = join(dir, `${file.replace(/\W/g, "_")}.par`);
      expect((await cli("import", file, "--out", out)).code).toBe(0);
      expect(readFileSync(out, "utf8")).toBe(summary.par);
      const again = await cli("check", out, "--json");
      expect((JSON.parse(again.out) as { files: { models: { parameters: number }[] }[] }).files[0].models[0].parameters).toBe(count);
    });
  }

  it("--set seq and batch bind the shape in import and check; --name renames; --batch is PAR4013", async () => {
    const r = await cli("import", "models/llm/llama-2-7b.json", "--set", "seq=2048", "--set", "batch=16", "--name", "l7");
    expect(r.code).toBe(0);
    expect(r.out).toContain("model l7(batch = 16, seq = 2048,");
    const c = await cli("check", "models/llm/llama-2-7b.json", "--set", "seq=2048", "--json");
    expect((JSON.parse(c.out) as { files: { models: { params: Record<string, number> }[] }[] }).files[0].models[0].params).toMatchObject({ batch: 8, seq: 2048 });
    const bad = await cli("import", "models/llm/llama-2-7b.json", "--batch", "4");
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("PAR4013");
    expect(bad.err).toContain("--set batch=N");
    // Commands that load through the pipeline make it a usage error (exit 2).
    const usage = await cli("graph", "models/llm/llama-2-7b.json", "--loss", "mse");
    expect(usage.code).toBe(2);
    expect(usage.err).toContain("PAR4013");
  });

  it("a bad config is a coded error with file:line:col", async () => {
    const file = join(dir, "bad.json");
    const text = readFileSync("models/llm/llama-2-70b.json", "utf8").replace('"num_key_value_heads": 8', '"num_key_value_heads": 6');
    const { writeFileSync } = await import("node:fs");
    writeFileSync(file, text);
    const r = await cli("import", file);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${file}:16:26: error PAR6064: \`num_key_value_heads\` 6 does not divide \`num_attention_heads\` 64`);
  });
});

describe("LLM configs search, compile and verify like any model", () => {
  it("par search on a built-in mesh (LLaMA-2-7B on h100x8, small budget)", async () => {
    const r = await cli("search", "models/llm/llama-2-7b.json", "--mesh", "h100x8", "--budget", "3", "--json");
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out) as { model: string; mesh: string; feasible: boolean; iterations: number; best: { iterationTimeMs: number; ops: Record<string, unknown> } };
    expect(s).toMatchObject({ model: "llama_2_7b_hf", mesh: "h100x8", feasible: true });
    expect(s.iterations).toBeGreaterThan(0);
    expect(s.best.iterationTimeMs).toBeGreaterThan(0);
    expect(Object.keys(s.best.ops)).toHaveLength(32 * 16 + 5);
  }, 300_000);

  it("a 2-layer GQA LLaMA compiles under a searched strategy and verifies (tfjs), also under megatron's heads split", async () => {
    const plan = join(dir, "tiny.plan.json");
    const compiled = await cli("compile", ...TINY, "--mesh", "local", "--search", "--budget", "200", "--out", plan);
    expect(compiled.err).toBe("");
    expect(compiled.code).toBe(0);
    const verified = await cli("verify", plan, "--steps", "2", "--json");
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.out)).toMatchObject({ ok: true });
    const megatron = await cli("verify", ...TINY, "--mesh", "local", "--strategy", "megatron", "--steps", "2", "--json");
    expect(megatron.code).toBe(0);
    expect(JSON.parse(megatron.out)).toMatchObject({ ok: true });
  }, 300_000);

  describeTorch("on the torch engine", () => {
    it("the searched plan and megatron's verify with --engine torch", async () => {
      const plan = join(dir, "tiny-torch.plan.json");
      expect((await cli("compile", ...TINY, "--mesh", "local", "--search", "--budget", "200", "--out", plan)).code).toBe(0);
      const searched = await cli("verify", plan, "--steps", "2", "--engine", "torch", "--json");
      expect(searched.code).toBe(0);
      expect(JSON.parse(searched.out)).toMatchObject({ ok: true });
      const megatron = await cli("verify", ...TINY, "--mesh", "local", "--strategy", "megatron", "--steps", "2", "--engine", "torch", "--json");
      expect(megatron.code).toBe(0);
      expect(JSON.parse(megatron.out)).toMatchObject({ ok: true });
    }, 300_000);
  });
});
