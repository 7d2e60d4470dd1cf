// Diagnostic codes of the torch engine (PAR8001–PAR8049): finding a Python with torch,
// running plans on torch.distributed (python/par_torch raises the same codes; its table,
// `python3 -m par_torch codes`, must match this one: test/engines/torch/codes.test.ts).
import type { CodeTable } from "../../core/codes.js";

export const TORCH_CODES: CodeTable = {
  PAR8001: { title: "no Python that can import torch" },
  PAR8002: { title: "torch is older than 1.13" },
  PAR8003: { title: "the requested device or backend is not available" },
  PAR8004: { title: "the plan cannot run on the torch engine" },
  PAR8005: { title: "the number of ranks disagrees with the plan's devices" },
  PAR8006: { title: "an instruction failed on a rank" },
  PAR8007: { title: "a rank died" },
  PAR8008: { title: "a rank waited past the timeout" },
  PAR8009: { title: "a data file for a graph input is missing or unreadable" },
  PAR8010: { title: "a data file disagrees with the model's input (shape, dtype, layout)" },
  PAR8011: { title: "the launcher could not start the ranks" },
  PAR8012: { title: "the engine's output could not be understood" },
  PAR8013: { title: "the torch run disagrees with the single-device reference" },
  PAR8014: { title: "the export directory cannot be written" },
  PAR8015: { title: "bad command line" },
  PAR8016: { title: "the plan file cannot be read" },
  PAR8017: { title: "a param's given values are missing or of the wrong length" },
  PAR8018: { title: "a message or kernel result has the wrong number of elements" },
  PAR8019: { title: "the engine failed unexpectedly" },
  PAR8020: { title: "the torch engine's run of a plan disagrees with the tfjs runtime's" },
};

/** The one-line install hint of PAR8001. */
export const INSTALL_HINT = "apt-get install python3-torch libopenblas0-pthread (or set PAR_PYTHON to a Python that can import torch)";
