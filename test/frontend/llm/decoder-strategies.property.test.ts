// The central property for imported LLM configs: a small random LLaMA/Mistral config (random
// widths, heads, kv heads sharing them, tied or untied head, biases) under a random strategy
// on 1-3 devices computes what the single-device model computes (losses, gradients, updated
// weights). It exercises rms_norm, rotary, sdpa and silu through lowering with block maps
// (heads splits meeting linear column/row splits), global positions and partial sums.
import fc from "fast-check";
import { afterAll, beforeAll, describe, it } from "vitest";
import { Diagnostics } from "../../../src/core/diagnostics.js";
import { importLlmConfig } from "../../../src/frontend/llm/import.js";
import type { TF } from "../../../src/ops/contract.js";
import { checkSchedule } from "../../../src/plan/schedule.js";
import { verifyPlan } from "../../../src/runtime/exec/verify.js";
import { assertProperty } from "../../support/property.js";
import { useBackend } from "../../support/tf.js";
import { plans } from "../../runtime/graphs.js";
import { describeCase, randomStrategy } from "../../runtime/random-cases.js";

const configArb = fc.record({
  model_type: fc.constantFrom("llama", "mistral"),
  kv: fc.integer({ min: 1, max: 2 }),
  group: fc.integer({ min: 1, max: 2 }),
  headDim: fc.constantFrom(2, 4),
  ffn: fc.integer({ min: 2, max: 6 }),
  vocab: fc.integer({ min: 3, max: 7 }),
  seq: fc.integer({ min: 2, max: 4 }),
  batch: fc.integer({ min: 1, max: 3 }),
  tied: fc.boolean(),
  bias: fc.boolean(),
  theta: fc.constantFrom(10000, 50),
  strategySeed: fc.integer({ min: 1, max: 1_000_000 }),
  devices: fc.integer({ min: 1, max: 3 }),
});

let worst = 0;
let cases = 0;
afterAll(() => console.log(`LLM decoder strategies: ${cases} cases, worst relative error above the 1e-6 floor ${worst.toExponential(2)}`));

describe("imported LLaMA/Mistral configs: any strategy computes the single-device result", () => {
  let tf: TF;
  beforeAll(async () => {
    tf = await useBackend("cpu");
  });

  it("random small configs × random strategies verify", async () => {
    await assertProperty(
      fc.asyncProperty(configArb, async (c) => {
        const heads = c.kv * c.group;
        const config = {
          model_type: c.model_type,
          vocab_size: c.vocab,
          hidden_size: 2 * heads * c.headDim,
          head_dim: c.headDim,
          intermediate_size: c.ffn,
          num_hidden_layers: 1,
          num_attention_heads: heads,
          num_key_value_heads: c.kv,
          max_position_embeddings: 16,
          rope_theta: c.theta,
          tie_word_embeddings: c.tied,
          ...(c.model_type === "llama" ? { attention_bias: c.bias, mlp_bias: c.bias } : {}),
        };
        const d = new Diagnostics();
        const imported = importLlmConfig(JSON.stringify(config), "config.json", { overrides: { batch: c.batch, seq: c.seq } }, d);
        if (!imported) throw new Error(d.items.map((i) => `${i.code} ${i.message}`).join("; "));
        const graph = imported.graph;
        const strategy = randomStrategy(graph, c.strategySeed, c.devices);
        const { plan, single } = plans(graph, strategy, c.devices, { kind: "sgd", learningRate: 0.05 }, c.strategySeed);
        const schedule = checkSchedule(plan);
        const described = () => `${JSON.stringify(config)}\n${describeCase({ graph, strategy, devices: c.devices })}`;
        if (schedule) throw new Error(`${described()}\nschedule: ${schedule}`);
        const r = await verifyPlan(plan, single, tf, { steps: 2 });
        worst = Math.max(worst, r.maxRelError);
        cases++;
        if (!r.ok) throw new Error(`${described()}\n${JSON.stringify(r, null, 1)}`);
      }),
      Number(process.env.PAR_RUNS ?? 25),
    );
  }, 300_000);
});
