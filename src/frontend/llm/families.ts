// The model families of `par import config.json`: each reads its Hugging Face config fields
// (with HF's defaults where the config may leave a field out) and writes the family's
// structure as a compact .par program — a block for one layer and a `for` loop over the
// layers, so a 70B model is ~40 lines. Parameter counts are those of the HF classes:
//   gpt2            GPT2LMHeadModel (pre-LN, fused QKV with biases, learned positions,
//                   LM head tied to wte unless tie_word_embeddings is false)
//   bert            BertModel with its pooler (post-LN, learned positions and token types)
//   llama, mistral  LlamaForCausalLM / MistralForCausalLM (RMSNorm, rotary q/k, grouped-query
//                   attention, SwiGLU MLP, no biases unless attention_bias / mlp_bias,
//                   LM head untied unless tie_word_embeddings)

import { basename } from "node:path";
import type { ConfigFields } from "./fields.js";

/** One family's model, before the training shape is bound. */
export interface FamilyModel {
  /** The model's integer parameters in declaration order, with their default values. */
  params: [string, number][];
  /** The .par program for model `name` with these parameter values. */
  render(name: string, params: readonly [string, number][]): string;
  /** A learned position table caps the sequence length (gpt2, bert). */
  maxSeq?: number;
  /** Checks that need the bound shape (sliding window vs seq); reports into fields.diagnostics. */
  bound?(fields: ConfigFields, shape: Record<string, number>): void;
}

export type FamilyReader = (f: ConfigFields) => FamilyModel | undefined;

/** Default training batch of every family (`--set batch=N`). */
export const DEFAULT_BATCH = 8;
/** Default training sequence cap for rotary families whose context is longer. */
export const DEFAULT_MAX_SEQ = 4096;

/** A float attribute as a .par float literal (1e-05, 10000.0). */
export function floatLiteral(v: number): string {
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return `${v}.0`;
  return String(v);
}

/**
 * HF activation names (transformers' ACT2FN) → par's op. The tanh approximations of GELU
 * (gelu_new, gelu_fast, gelu_pytorch_tanh) run as exact gelu: the same cost and parameters,
 * values within ~1e-3.
 */
const ACTIVATIONS: Record<string, string> = {
  gelu: "gelu",
  gelu_new: "gelu",
  gelu_fast: "gelu",
  gelu_pytorch_tanh: "gelu",
  gelu_python: "gelu",
  relu: "relu",
  silu: "silu",
  swish: "silu",
  tanh: "tanh",
  sigmoid: "sigmoid",
};

function activation(f: ConfigFields, key: string, fallback: string): string | undefined {
  const name = f.str(key, fallback);
  if (name === undefined) return undefined;
  const op = ACTIVATIONS[name];
  if (op) return op;
  f.diagnostics.error("PAR6065", `\`${key}\` is "${name}", an activation par does not model`, {
    pos: f.pos(key),
    expected: `one of ${Object.keys(ACTIVATIONS).map((a) => `"${a}"`).join(", ")}`,
  });
  return undefined;
}

/** `dropout(e, p = P)`, or e itself when p is 0. */
const drop = (e: string, p: number): string => (p > 0 ? `dropout(${e}, p = ${floatLiteral(p)})` : e);

function header(kind: string, file: string, lines: string[]): string {
  return [`# ${kind} from ${basename(file)} (par import): ${lines[0]}`, ...lines.slice(1).map((l) => `# ${l}`)].join("\n") + "\n";
}

/** `model NAME(a = 1, b = 2) {` */
function modelLine(name: string, params: readonly [string, number][]): string {
  return `model ${name}(${params.map(([k, v]) => `${k} = ${v}`).join(", ")}) {`;
}

/** heads must divide hidden (no explicit head_dim): PAR6064 at num_attention_heads. */
function dividing(f: ConfigFields, headsKey: string, heads: number, widthKey: string, width: number): boolean {
  if (width % heads === 0) return true;
  f.diagnostics.error("PAR6064", `\`${headsKey}\` ${heads} does not divide \`${widthKey}\` ${width}`, {
    pos: f.pos(headsKey),
    expected: `a number of heads dividing ${width}`,
    hint: "each head takes hidden / heads features",
  });
  return false;
}

// ---------------------------------------------------------------------------------------

export const gpt2: FamilyReader = (f) => {
  const vocab = f.int("vocab_size");
  const hidden = f.int("n_embd");
  const layers = f.int("n_layer");
  const heads = f.int("n_head");
  const posKey = f.firstOf(["n_positions", "n_ctx"]) ?? "n_positions";
  const positions = f.int(posKey);
  const ffn = f.has("n_inner") ? f.int("n_inner") : hidden !== undefined ? 4 * hidden : undefined;
  const act = activation(f, "activation_function", "gelu_new");
  const eps = f.num("layer_norm_epsilon", 1e-5, { positive: true });
  const resid = f.num("resid_pdrop", 0.1, { min: 0, below: 1 });
  const embd = f.num("embd_pdrop", 0.1, { min: 0, below: 1 });
  const init = f.num("initializer_range", 0.02, { positive: true });
  const tied = f.bool("tie_word_embeddings", true);
  if (!f.ok || heads === undefined || hidden === undefined || !dividing(f, "n_head", heads, "n_embd", hidden)) return undefined;
  const E = floatLiteral(eps!);
  return {
    params: [["batch", DEFAULT_BATCH], ["seq", positions!], ["vocab", vocab!], ["hidden", hidden], ["layers", layers!], ["heads", heads], ["ffn", ffn!], ["positions", positions!]],
    maxSeq: positions,
    render: (name, params) =>
      header("GPT-2", f.file, [
        `Hugging Face GPT2LMHeadModel: pre-LN decoder layers with causal`,
        `self-attention (fused QKV with biases as \`attention\`), learned positions, final layer norm and`,
        tied ? `an LM head tied to the token table (a second reader of wte: no parameters of its own).` : `an untied LM head (tie_word_embeddings = false).`,
        `The objective is next-token cross-entropy; attention-probability dropout is not modelled.`,
      ]) +
      [
        `block gpt2_layer(x, hidden, heads, ffn) {`,
        `  attn = ${drop(`attention(layernorm(x, eps = ${E}), heads = heads, causal = true)`, resid!)}`,
        `  mid = add(x, attn)`,
        `  up = ${act}(linear(layernorm(mid, eps = ${E}), out = ffn))`,
        `  return add(mid, ${drop("linear(up, out = hidden)", resid!)})`,
        `}`,
        ``,
        modelLine(name, params),
        `  input tokens : i32[batch, seq]`,
        `  input position_ids : i32[batch, seq]`,
        `  input next : i32[batch, seq]`,
        `  wte = param(shape = [vocab, hidden], init = "normal", scale = ${floatLiteral(init!)})`,
        `  wpe = param(shape = [positions, hidden], init = "normal", scale = ${floatLiteral(init!)})`,
        `  h = ${drop("add(gather(wte, tokens), gather(wpe, position_ids))", embd!)}`,
        `  for layer in 0..layers - 1 {`,
        `    h = gpt2_layer(h, hidden, heads, ffn)`,
        `  }`,
        `  out = layernorm(h, eps = ${E})`,
        tied ? `  logits = matmul(out, wte, transpose_b = true)` : `  logits = linear(out, out = vocab, bias = false)`,
        `  loss = softmax_cross_entropy(logits, next)`,
        `}`,
        ``,
      ].join("\n"),
  };
};

// ---------------------------------------------------------------------------------------

export const bert: FamilyReader = (f) => {
  const vocab = f.int("vocab_size");
  const hidden = f.int("hidden_size");
  const layers = f.int("num_hidden_layers");
  const heads = f.int("num_attention_heads");
  const ffn = f.int("intermediate_size");
  const positions = f.int("max_position_embeddings");
  const segments = f.int("type_vocab_size", { fallback: 2 });
  const act = activation(f, "hidden_act", "gelu");
  const eps = f.num("layer_norm_eps", 1e-12, { positive: true });
  const p = f.num("hidden_dropout_prob", 0.1, { min: 0, below: 1 });
  const posType = f.str("position_embedding_type", "absolute");
  if (posType !== undefined && posType !== "absolute") {
    f.diagnostics.error("PAR6065", `\`position_embedding_type\` is "${posType}"; par models BERT's absolute position embeddings only`, {
      pos: f.pos("position_embedding_type"),
      expected: `"absolute"`,
    });
  }
  if (!f.ok || heads === undefined || hidden === undefined || !dividing(f, "num_attention_heads", heads, "hidden_size", hidden)) return undefined;
  const E = floatLiteral(eps!);
  return {
    params: [["batch", DEFAULT_BATCH], ["seq", positions!], ["vocab", vocab!], ["hidden", hidden], ["layers", layers!], ["heads", heads], ["ffn", ffn!], ["positions", positions!], ["segments", segments!]],
    maxSeq: positions,
    render: (name, params) =>
      header("BERT", f.file, [
        `Hugging Face BertModel with its pooler: post-LN encoder layers,`,
        `learned word, position and token-type embeddings. The training objective regresses the pooled`,
        `[CLS] vector onto a target (adds no parameters, so the count stays BertModel's); attention-`,
        `probability dropout is not modelled.`,
      ]) +
      [
        `block bert_layer(x, hidden, heads, ffn) {`,
        `  attn = ${drop("attention(x, heads = heads)", p!)}`,
        `  mid = layernorm(add(x, attn), eps = ${E})`,
        `  up = ${act}(linear(mid, out = ffn))`,
        `  down = ${drop("linear(up, out = hidden)", p!)}`,
        `  return layernorm(add(mid, down), eps = ${E})`,
        `}`,
        ``,
        modelLine(name, params),
        `  input tokens : i32[batch, seq]`,
        `  input segment_ids : i32[batch, seq]`,
        `  input position_ids : i32[batch, seq]`,
        `  input target : f32[batch, hidden]`,
        `  words = embedding(tokens, vocab = vocab, dim = hidden)`,
        `  where = embedding(position_ids, vocab = positions, dim = hidden)`,
        `  kinds = embedding(segment_ids, vocab = segments, dim = hidden)`,
        `  h = ${drop(`layernorm(add(add(words, where), kinds), eps = ${E})`, p!)}`,
        `  for layer in 0..layers - 1 {`,
        `    h = bert_layer(h, hidden, heads, ffn)`,
        `  }`,
        `  cls = reshape(slice(h, axis = 1, start = 0, end = 1), shape = [batch, hidden])`,
        `  pooled = tanh(linear(cls, out = hidden))`,
        `  loss = mse(pooled, target)`,
        `}`,
        ``,
      ].join("\n"),
  };
};

// ---------------------------------------------------------------------------------------

/** LLaMA and Mistral: one structure; Mistral adds a sliding window and has no bias fields. */
function decoder(kind: "LLaMA" | "Mistral"): FamilyReader {
  return (f) => {
    const vocab = f.int("vocab_size");
    const hidden = f.int("hidden_size");
    const ffn = f.int("intermediate_size");
    const layers = f.int("num_hidden_layers");
    const heads = f.int("num_attention_heads");
    const kvHeads = f.int("num_key_value_heads", { fallback: heads ?? 1 });
    const maxPos = f.int("max_position_embeddings", { fallback: kind === "LLaMA" ? 2048 : 4096 * 32 });
    const eps = f.num("rms_norm_eps", 1e-6, { positive: true });
    const theta = f.num("rope_theta", 10000, { positive: true });
    const init = f.num("initializer_range", 0.02, { positive: true });
    const tied = f.bool("tie_word_embeddings", false);
    const act = activation(f, "hidden_act", "silu");
    const attnBias = kind === "LLaMA" ? f.bool("attention_bias", false) : false;
    const mlpBias = kind === "LLaMA" ? f.bool("mlp_bias", false) : false;
    const window = kind === "Mistral" && f.has("sliding_window") ? f.int("sliding_window") : undefined;
    if (!f.ok || heads === undefined || hidden === undefined || kvHeads === undefined) return undefined;
    // head_dim: explicit (newer configs) or hidden / heads.
    let headDim: number | undefined;
    if (f.has("head_dim")) headDim = f.int("head_dim");
    else if (dividing(f, "num_attention_heads", heads, "hidden_size", hidden)) headDim = hidden / heads;
    if (headDim === undefined) return undefined;
    if (heads % kvHeads !== 0) {
      f.diagnostics.error("PAR6064", `\`num_key_value_heads\` ${kvHeads} does not divide \`num_attention_heads\` ${heads}`, {
        pos: f.pos("num_key_value_heads"),
        expected: `a divisor of ${heads}`,
        hint: "grouped-query attention: each key/value head serves heads / kv_heads query heads",
      });
      return undefined;
    }
    if (headDim % 2 !== 0) {
      f.diagnostics.error("PAR6064", `the head dimension ${headDim} is odd; rotary embeddings rotate each head in two halves`, {
        pos: f.pos(f.has("head_dim") ? "head_dim" : "num_attention_heads"),
        expected: "an even head_dim",
      });
      return undefined;
    }
    if (f.has("rope_scaling")) {
      f.diagnostics.warning("PAR6066", `\`rope_scaling\` is not modelled: rotary uses plain rope_theta frequencies (parameters and costs are unaffected)`, { pos: f.pos("rope_scaling") });
    }
    const E = floatLiteral(eps!);
    const T = floatLiteral(theta!);
    const ab = attnBias ? "true" : "false";
    const mb = mlpBias ? "true" : "false";
    const lower = kind === "LLaMA" ? "llama" : "mistral";
    return {
      params: [
        ["batch", DEFAULT_BATCH], ["seq", Math.min(maxPos!, DEFAULT_MAX_SEQ)], ["vocab", vocab!], ["hidden", hidden], ["layers", layers!],
        ["heads", heads], ["kv_heads", kvHeads], ["head_dim", headDim], ["ffn", ffn!],
      ],
      bound: (fields, shape) => {
        if (window !== undefined && shape.seq > window) {
          fields.diagnostics.warning("PAR6066", `Mistral's sliding window (${window} positions) is modelled as full causal attention: at seq ${shape.seq} the attention FLOPs are those of full causal attention`, {
            pos: fields.pos("sliding_window"),
            hint: `exact for seq ≤ ${window} (--set seq=${window})`,
          });
        }
      },
      render: (name, params) =>
        header(kind, f.file, [
          `Hugging Face ${kind === "LLaMA" ? "LlamaForCausalLM" : "MistralForCausalLM"}: pre-norm decoder layers with`,
          `RMSNorm, rotary embeddings on q and k, ${kvHeads < heads ? `grouped-query attention (${kvHeads} key/value heads for ${heads} query heads)` : "multi-head attention"}`,
          `(causal \`sdpa\`), a SwiGLU MLP (down(silu(gate(x))·up(x))), a final RMSNorm and ${tied ? "an LM head tied to the token table" : "an untied LM head"}.`,
          `${attnBias || mlpBias ? `Biases: ${[attnBias ? "attention projections" : "", mlpBias ? "MLP" : ""].filter(Boolean).join(", ")}.` : "No biases."} The objective is next-token cross-entropy.${window !== undefined ? ` The sliding window (${window}) is modelled as full causal attention.` : ""}`,
        ]) +
        [
          `block ${lower}_layer(x, hidden, heads, kv_heads, head_dim, ffn) {`,
          `  h = rms_norm(x, eps = ${E})`,
          `  q = rotary(linear(h, out = heads * head_dim, bias = ${ab}), head_dim = head_dim, theta = ${T})`,
          `  k = rotary(linear(h, out = kv_heads * head_dim, bias = ${ab}), head_dim = head_dim, theta = ${T})`,
          `  v = linear(h, out = kv_heads * head_dim, bias = ${ab})`,
          `  attn = linear(sdpa(q, k, v, heads = heads, kv_heads = kv_heads, causal = true), out = hidden, bias = ${ab})`,
          `  mid = add(x, attn)`,
          `  g = rms_norm(mid, eps = ${E})`,
          `  up = mul(${act}(linear(g, out = ffn, bias = ${mb})), linear(g, out = ffn, bias = ${mb}))`,
          `  return add(mid, linear(up, out = hidden, bias = ${mb}))`,
          `}`,
          ``,
          modelLine(name, params),
          `  input tokens : i32[batch, seq]`,
          `  input next : i32[batch, seq]`,
          `  embed = param(shape = [vocab, hidden], init = "normal", scale = ${floatLiteral(init!)})`,
          `  h = gather(embed, tokens)`,
          `  for layer in 0..layers - 1 {`,
          `    h = ${lower}_layer(h, hidden, heads, kv_heads, head_dim, ffn)`,
          `  }`,
          `  out = rms_norm(h, eps = ${E})`,
          tied ? `  logits = matmul(out, embed, transpose_b = true)` : `  logits = linear(out, out = vocab, bias = false)`,
          `  loss = softmax_cross_entropy(logits, next)`,
          `}`,
          ``,
        ].join("\n"),
    };
  };
}

/** The families by HF model_type. */
export const FAMILIES: Record<string, FamilyReader> = {
  gpt2,
  bert,
  llama: decoder("LLaMA"),
  mistral: decoder("Mistral"),
};
