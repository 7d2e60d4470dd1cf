// Diagnostic codes of the command line itself (PAR4xxx): files that cannot be read or written.
// Reading and writing are done by src/core/read-text.ts and src/core/files.ts for every area.
import type { CodeTable } from "../core/codes.js";

export const CLI_CODES: CodeTable = {
  PAR4001: { title: "cannot read file" },
  PAR4002: { title: "cannot write file (its folder is missing, it is a folder, it is an input, or the write failed)" },
  PAR4003: { title: "the input is not a text file (binary, or not UTF-8)" },
  PAR4004: { title: "the input file is larger than the limit for its kind" },
  PAR4005: { title: "a file is not in canonical form (`par fmt --check`)" },
  PAR4006: { title: "the command was called wrongly: an unknown command or option, a missing or malformed argument (exit 2)" },
  // Loading a model of any format (src/frontend/load-model.ts).
  PAR4010: { title: "not a model file par can read (neither .par, ONNX nor a TensorFlow.js model.json)" },
  PAR4011: { title: "a JSON file that is not a TensorFlow.js model.json (no modelTopology)" },
  PAR4012: { title: "the .par file declares no model, or several and --model picks none" },
  PAR4013: { title: "a model-loading option does not apply to the model's format (--set/--model for imports, --input/--batch/--loss for .par)" },
};
