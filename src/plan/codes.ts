// Diagnostic codes of plan files (PAR5001–PAR5049): reading, validating and writing plans.
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
  PAR5015: { title: "a buffer's slice does not lie inside its region" },
  PAR5016: { title: "operands disagree on what they hold (an update's weight, gradient and state; a reduce-scatter's or all-gather's slice), or a slice buffer where whole regions are needed" },
  PAR5017: { title: "an instruction reads a buffer after its release, before anything writes it" },
  PAR5018: { title: "the strategy cannot be lowered with micro-batches or replicas: an op's result that sums over the samples is read by another op" },
};
