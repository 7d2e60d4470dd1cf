// Diagnostic codes of `par import config.json` (Hugging Face style LLM configs, src/frontend/llm/).
import type { CodeTable } from "../../core/codes.js";

export const LLM_CODES: CodeTable = {
  PAR6060: { title: "an LLM config.json is not valid JSON" },
  PAR6061: { title: "the config's model_type is not one par imports (gpt2, llama, mistral, bert)" },
  PAR6062: { title: "a field the model family needs is missing from the config" },
  PAR6063: { title: "a config field has the wrong type or an out-of-range value" },
  PAR6064: { title: "config fields contradict each other (or the bound shape): heads, kv heads, head_dim, seq" },
  PAR6065: { title: "the config asks for a variant par does not model (activation, position embedding)" },
  PAR6066: { title: "the config's model is approximated (warning): sliding-window attention as full causal, rope_scaling ignored" },
};
