// Diagnostic codes of plans (PAR5001–PAR5049): making them (the compile stage), reading,
// validating and writing plan files.
import type { CodeTable } from "../core/codes.js";

export const CODEGEN_CODES: CodeTable = {
  PAR5001: { title: "plan file does not match the plan schema" },
  PAR5002: { title: "not a par plan (wrong or missing `format`)" },
  PAR5003: { title: "plan format version this par does not read" },
  PAR5004: { title: "an instruction names a buffer its device does not declare" },
  PAR5005: { title: "a send has no matching recv (or a recv no send, or they disagree on devices or region)" },
  PAR5006: { title: "an op of the plan is not in the op registry" },
  PAR5007: { title: "a param has an init its kind does not allow, or no tensor" },
  PAR5008: { title: "a name is declared twice (tensor, op, buffer on one device, or device program)" },
  PAR5009: { title: "a reference to an unknown tensor, op or device" },
  PAR5010: { title: "the programs cannot run to completion (deadlock)" },
  PAR5011: { title: "the plan file is not valid JSON" },
  PAR5012: { title: "a param's given values (init `values`) are missing from `weights`, unused, or of the wrong length" },
  PAR5013: { title: "the model's given weights exceed what a plan carries (64 MiB); compile with random init" },
  PAR5014: { title: "an op's exported signature (iteration space, axis maps) is not what the op registry infers" },
  PAR5021: { title: "the model has no loss: a plan trains the model, so it cannot be compiled, run, verified or profiled" },
  PAR5022: { title: "the model has no loss: simulate and search price a training iteration as if its outputs fed one (warning)" },
  PAR5023: { title: "a plan op's tensors disagree with the shapes and types its op infers from its inputs" },
  PAR5024: { title: "a device of the plan has no program, or the plan has no devices" },
  PAR5025: { title: "the plan's programs compute none of its losses (a step would do nothing)" },
  PAR5026: { title: "an instruction's buffers are not what it needs (a kernel's operands: tensor, kind, region of its task; a move's region; an update's state)" },
};
