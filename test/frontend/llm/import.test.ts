// `par import config.json` as a library (src/frontend/llm/): the shipped configs
// (models/llm/, written from the public Hugging Face config values) give the real models'
// exact parameter counts, and the printed .par checks to the same graph; the family's
// structure follows the config (GQA, tied embeddings, biases, head_dim); `--set` binds the
// shape; bad configs are coded errors at the field's line and column.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Diagnostics } from "../../../src/core/diagnostics.js";
import { check } from "../../../src/frontend/check.js";
import { importLlmConfig, looksLikeLlmConfig, type LlmImportOptions } from "../../../src/frontend/llm/import.js";
import { parse } from "../../../src/frontend/parse.js";
import { format } from "../../../src/frontend/print.js";

const read = (name: string): string => readFileSync(new URL(`../../../models/llm/${name}.json`, import.meta.url), "utf8");

/** Imports config text; the result and every diagnostic as "CODE line:col message". */
function load(text: string, options: LlmImportOptions = {}, file = "config.json") {
  const d = new Diagnostics();
  const r = importLlmConfig(text, file, options, d);
  return { r, d, codes: d.items.map((i) => `${i.code} ${i.pos ? `${i.pos.line}:${i.pos.column}` : "-"}`), messages: d.items.map((i) => i.message) };
}

/** A config object with fields changed (undefined deletes), pretty-printed like HF's. */
function edit(name: string, change: Record<string, unknown>): string {
  const obj = JSON.parse(read(name)) as Record<string, unknown>;
  for (const [k, v] of Object.entries(change)) {
    if (v === undefined) delete obj[k];
    else obj[k] = v;
  }
  return JSON.stringify(obj, null, 2);
}

/** 1-based line of `"key":` in a text. */
const lineOf = (text: string, key: string): number => text.split("\n").findIndex((l) => l.includes(`"${key}":`)) + 1;

const REAL: [string, number][] = [
  ["gpt2", 124_439_808],
  ["bert-base-uncased", 109_482_240],
  ["llama-2-7b", 6_738_415_616],
  ["llama-2-70b", 68_976_648_192],
  ["mistral-7b", 7_241_732_096],
];

describe("LLM configs: the real models' parameter counts", () => {
  for (const [name, count] of REAL) {
    it(`${name}: ${count.toLocaleString("en")} parameters, and the printed .par checks to the same graph`, () => {
      const { r, d } = load(read(name), {}, `models/llm/${name}.json`);
      expect(d.items.map((i) => i.code)).toEqual([]);
      expect(r!.parameters).toBe(count);
      expect(r!.graph.parameterCount()).toBe(count);
      // The generated program on its own, as `par check generated.par` reads it.
      const d2 = new Diagnostics();
      const checked = check(parse(r!.source, "printed.par", d2)!, d2);
      expect(d2.items).toEqual([]);
      const g = [...checked.models.values()][0];
      expect(g.parameterCount()).toBe(count);
      expect(g.ops.size).toBe(r!.graph.ops.size);
      expect([...g.ops.keys()]).toEqual([...r!.graph.ops.keys()]);
      // Printed in canonical form (`par fmt --check` passes on it).
      expect(format(parse(r!.source, "printed.par", new Diagnostics())!)).toBe(r!.source);
    });
  }

  it("the .par is compact: a layer block and a loop, whatever the depth", () => {
    const { r } = load(read("llama-2-70b"));
    expect(r!.graph.ops.size).toBe(80 * 16 + 5);
    expect(r!.source.split("\n").length).toBeLessThan(40);
    expect(r!.source).toContain("for layer in 0..layers - 1 {");
  });
});

describe("LLM configs: structure from the config", () => {
  it("LLaMA-2-70B: grouped-query attention (8 kv heads for 64), RMSNorm, rotary, SwiGLU, no biases, untied head", () => {
    const g = load(read("llama-2-70b")).r!.graph;
    const op = (name: string) => g.op(name);
    expect(op("layer0.h.attn.sdpa").attrs).toMatchObject({ heads: 64, kv_heads: 8, causal: true });
    expect(op("layer0.h.q.linear").sig.params.map((p) => p.shape)).toEqual([[8192, 8192]]);
    expect(op("layer0.h.k.linear").sig.params.map((p) => p.shape)).toEqual([[8192, 1024]]);
    expect(op("layer0.h.q").op).toBe("rotary");
    expect(op("layer0.h.q").attrs).toMatchObject({ head_dim: 128, theta: 10000 });
    expect(op("layer0.h.h").op).toBe("rms_norm");
    expect(op("layer0.h.h").attrs.eps).toBeCloseTo(1e-5, 12);
    expect(op("layer0.h.up.silu").op).toBe("silu");
    expect(op("layer0.h.up.linear").sig.params.map((p) => p.shape)).toEqual([[8192, 28672]]);
    expect(op("logits").sig.params.map((p) => p.shape)).toEqual([[8192, 32000]]);
    expect(g.inputs.map((t) => `${t}${JSON.stringify(g.tensor(t).type.shape)}`)).toEqual(["tokens[8,4096]", "next[8,4096]"]);
  });

  it("tie_word_embeddings, attention_bias, mlp_bias and head_dim change the count as HF's classes do", () => {
    const base = 6_738_415_616;
    const [v, h, L, f] = [32000, 4096, 32, 11008];
    expect(load(edit("llama-2-7b", { tie_word_embeddings: true })).r!.parameters).toBe(base - v * h);
    expect(load(edit("llama-2-7b", { attention_bias: true })).r!.parameters).toBe(base + L * 4 * h);
    expect(load(edit("llama-2-7b", { mlp_bias: true })).r!.parameters).toBe(base + L * (2 * f + h));
    // head_dim 64 with 32 heads: q/k/v give 32·64 = 2048 columns, o reads them back.
    expect(load(edit("llama-2-7b", { head_dim: 64 })).r!.parameters).toBe(base - L * 4 * h * 2048);
    // Missing num_key_value_heads: multi-head attention (HF's default).
    expect(load(edit("llama-2-7b", { num_key_value_heads: undefined })).r!.parameters).toBe(base);
    // GPT-2 untied: an LM head [768, 50257] of its own.
    expect(load(edit("gpt2", { tie_word_embeddings: false })).r!.parameters).toBe(124_439_808 + 768 * 50257);
    // GPT-2 n_inner and relu; no dropout ops when the probabilities are 0.
    const g = load(edit("gpt2", { n_inner: 1024, activation_function: "relu", resid_pdrop: 0, embd_pdrop: 0 })).r!;
    expect(g.parameters).toBe(124_439_808 - 12 * (2 * 768 * 2048 + 2048)); // c_fc and c_proj shrink, c_proj's bias stays
    expect([...g.graph.ops.values()].map((o) => o.op)).not.toContain("dropout");
    expect([...g.graph.ops.values()].map((o) => o.op)).toContain("relu");
  });

  it("--set binds batch and seq (and any model parameter) into the printed defaults; an unknown one is the checker's PAR2014", () => {
    const { r } = load(read("llama-2-7b"), { overrides: { seq: 512, batch: 2 } });
    expect(r!.source).toContain("(batch = 2, seq = 512, vocab = 32000,");
    expect(r!.graph.tensor("tokens").type.shape).toEqual([2, 512]);
    expect(load(read("llama-2-7b"), { overrides: { layers: 2 } }).r!.parameters).toBe(2 * 202_383_360 + 4096 + 2 * 131_072_000);
    expect(load(read("llama-2-7b"), { overrides: { sequence: 5 } }).codes).toEqual(["PAR2014 -"]);
    expect(load(read("llama-2-7b"), { overrides: { seq: 0 } }).codes).toEqual(["PAR6063 -"]);
    // Learned position tables cap seq.
    const over = load(read("gpt2"), { overrides: { seq: 2048 } });
    expect(over.codes).toEqual(["PAR6064 -"]);
    expect(over.messages[0]).toContain("1024 positions");
  });

  it("default shapes: batch 8, seq the family's context capped at 4096", () => {
    const seqOf = (name: string) => load(read(name)).r!.graph.tensor("tokens").type.shape;
    expect(seqOf("gpt2")).toEqual([8, 1024]);
    expect(seqOf("bert-base-uncased")).toEqual([8, 512]);
    expect(seqOf("llama-2-7b")).toEqual([8, 4096]);
    expect(seqOf("mistral-7b")).toEqual([8, 4096]);
  });

  it("names the model from _name_or_path, else the file, else model_type; --name wins", () => {
    expect(load(read("llama-2-7b")).r!.graph.name).toBe("llama_2_7b_hf");
    expect(load(edit("llama-2-7b", { _name_or_path: undefined }), {}, "dir/config.json").r!.graph.name).toBe("llama");
    expect(load(edit("llama-2-7b", { _name_or_path: undefined }), {}, "dir/My-Model.json").r!.graph.name).toBe("my_model");
    expect(load(read("gpt2"), { name: "g" }).r!.graph.name).toBe("g");
  });

  it("tells an LLM config from a TensorFlow.js model.json by its beginning", () => {
    expect(looksLikeLlmConfig(read("gpt2"))).toBe(true);
    expect(looksLikeLlmConfig('{"modelTopology": {}, "model_type": "x"}')).toBe(false);
    expect(looksLikeLlmConfig('{"format": "par-plan"}')).toBe(false);
  });
});

describe("LLM configs: coded errors at the field's position", () => {
  it("PAR6061: an unsupported model_type, with the supported ones and a did-you-mean", () => {
    const text = edit("llama-2-7b", { model_type: "lama" });
    const { codes, d } = load(text);
    expect(codes).toEqual([`PAR6061 ${lineOf(text, "model_type")}:17`]);
    expect(d.items[0].expected).toBe('one of "bert", "gpt2", "llama", "mistral"');
    expect(d.items[0].hint).toContain("llama");
    expect(load(edit("gpt2", { model_type: "t5" })).codes[0]).toMatch(/^PAR6061 /);
  });

  it("PAR6062: a field the family needs is missing (at the opening brace)", () => {
    const { codes, messages } = load(edit("llama-2-7b", { hidden_size: undefined }));
    expect(codes).toEqual(["PAR6062 1:1"]);
    expect(messages[0]).toContain("`hidden_size`");
    expect(load(edit("bert-base-uncased", { intermediate_size: undefined })).codes).toEqual(["PAR6062 1:1"]);
    expect(load(edit("gpt2", { n_positions: undefined, n_ctx: undefined })).codes).toEqual(["PAR6062 1:1"]);
  });

  it("PAR6063: wrong types and out-of-range values, at the value", () => {
    for (const [name, change, key] of [
      ["llama-2-7b", { hidden_size: "4096" }, "hidden_size"],
      ["llama-2-7b", { num_hidden_layers: 0 }, "num_hidden_layers"],
      ["llama-2-7b", { intermediate_size: 11008.5 }, "intermediate_size"],
      ["llama-2-7b", { rms_norm_eps: -1 }, "rms_norm_eps"],
      ["llama-2-7b", { tie_word_embeddings: "no" }, "tie_word_embeddings"],
      ["gpt2", { resid_pdrop: 1.5 }, "resid_pdrop"],
      ["bert-base-uncased", { hidden_act: 3 }, "hidden_act"],
    ] as [string, Record<string, unknown>, string][]) {
      const text = edit(name, change);
      const col = text.split("\n")[lineOf(text, key) - 1].indexOf(":") + 3;
      expect(load(text).codes, key).toEqual([`PAR6063 ${lineOf(text, key)}:${col}`]);
    }
  });

  it("PAR6064: heads, kv heads and head_dim that contradict each other", () => {
    const text = edit("llama-2-70b", { num_key_value_heads: 6 });
    expect(load(text).codes).toEqual([`PAR6064 ${lineOf(text, "num_key_value_heads")}:26`]);
    expect(load(edit("llama-2-7b", { num_attention_heads: 30 })).codes[0]).toMatch(/^PAR6064 /);
    expect(load(edit("llama-2-7b", { head_dim: 127 })).codes[0]).toMatch(/^PAR6064 /);
    expect(load(edit("gpt2", { n_head: 7 })).codes[0]).toMatch(/^PAR6064 /);
  });

  it("PAR6065: variants par does not model", () => {
    const text = edit("llama-2-7b", { hidden_act: "quick_gelu" });
    expect(load(text).codes).toEqual([`PAR6065 ${lineOf(text, "hidden_act")}:17`]);
    expect(load(edit("bert-base-uncased", { position_embedding_type: "relative_key" })).codes[0]).toMatch(/^PAR6065 /);
  });

  it("PAR6066 (warnings): rope_scaling is not modelled; Mistral's sliding window beyond seq is full causal attention", () => {
    const text = edit("llama-2-7b", { rope_scaling: { type: "linear", factor: 2 } });
    const scaled = load(text);
    expect(scaled.r).toBeDefined();
    expect(scaled.d.warnings.map((w) => `${w.code} ${w.pos?.line}`)).toEqual([`PAR6066 ${lineOf(text, "rope_scaling")}`]);
    const mistral = read("mistral-7b");
    expect(load(mistral).d.items).toEqual([]);
    const long = load(mistral, { overrides: { seq: 8192 } });
    expect(long.r!.parameters).toBe(7_241_732_096);
    expect(long.codes).toEqual([`PAR6066 ${lineOf(mistral, "sliding_window")}:21`]);
  });

  it("PAR6060: not JSON (at the syntax error) or not an object", () => {
    const broken = '{\n  "model_type": "llama",\n  "hidden_size": 4096,,\n}\n';
    const { codes } = load(broken);
    expect(codes).toHaveLength(1);
    expect(codes[0]).toMatch(/^PAR6060 3:/);
    expect(load("[1, 2]").codes).toEqual(["PAR6060 1:1"]);
  });
});
