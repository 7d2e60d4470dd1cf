// Diagnostic codes of the command line itself (PAR4xxx): files that cannot be read or written.
import type { CodeTable } from "../core/codes.js";

export const CLI_CODES: CodeTable = {
  PAR4001: { title: "cannot read file" },
  PAR4002: { title: "cannot write file" },
  // Loading a model of any format (src/frontend/load-model.ts).
  PAR4010: { title: "not a model file par can read (neither .par, ONNX nor a TensorFlow.js model.json)" },
  PAR4011: { title: "a JSON file that is not a TensorFlow.js model.json (no modelTopology)" },
  PAR4012: { title: "the .par file declares no model, or several and --model picks none" },
  PAR4013: { title: "a model-loading option does not apply to the model's format (--set/--model for imports, --input/--batch/--loss for .par)" },
};
