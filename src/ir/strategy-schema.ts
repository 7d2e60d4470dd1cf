// The published JSON Schema of strategy files (format "par-strategy", version 1). The
// schema lives here as data so that the compiled validator and the published copy in
// strategies/strategy.schema.json cannot drift apart: a test compares them byte for byte
// with `strategySchemaText()`. docs/strategies.md documents every field.

import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";

export const STRATEGY_FORMAT = "par-strategy";
/** Bumped on any change that an old reader would misread; readers reject newer versions. */
export const STRATEGY_VERSION = 1;
export const STRATEGY_SCHEMA_ID = "urn:par:schema:strategy:v1";

/** A strategy file, version 1. Dims are keyed by parallel-dim name; omitted dims have degree 1. */
export interface StrategyJson {
  $schema?: string;
  format: typeof STRATEGY_FORMAT;
  version: typeof STRATEGY_VERSION;
  name: string;
  model: string;
  mesh: string;
  ops: Record<string, OpConfigJson>;
}

export interface OpConfigJson {
  dims?: Record<string, number>;
  devices: number[];
}

export const STRATEGY_SCHEMA = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  $id: STRATEGY_SCHEMA_ID,
  title: "par strategy",
  description:
    "A parallelization strategy for one model on one device mesh: for every op, a degree per parallel dim (FlexFlow's SOAP config) and the device of each task. See docs/strategies.md.",
  type: "object",
  required: ["format", "version", "name", "model", "mesh", "ops"],
  additionalProperties: false,
  properties: {
    $schema: { type: "string", description: "Optional pointer to this schema, for editors; ignored by par." },
    format: { const: STRATEGY_FORMAT, description: "Always \"par-strategy\"." },
    version: { const: STRATEGY_VERSION, description: "Format version; par rejects versions it does not know." },
    name: { type: "string", minLength: 1, description: "The strategy's name, for people." },
    model: { type: "string", minLength: 1, description: "The model the strategy was made for." },
    mesh: { type: "string", minLength: 1, description: "The device mesh the strategy was made for." },
    ops: {
      type: "object",
      description: "Config per op name. A complete strategy configures every op of the model.",
      propertyNames: { minLength: 1 },
      additionalProperties: { $ref: "#/$defs/opConfig" },
    },
  },
  $defs: {
    opConfig: {
      type: "object",
      required: ["devices"],
      additionalProperties: false,
      properties: {
        dims: {
          type: "object",
          description: "Degree per parallel-dim name (\"sample\", \"channel\", ...). Omitted dims have degree 1.",
          propertyNames: { minLength: 1 },
          additionalProperties: { type: "integer", minimum: 1 },
        },
        devices: {
          type: "array",
          description: "The device index of each task; tasks are numbered row-major over the op's dims (last dim fastest). Length = product of the degrees.",
          minItems: 1,
          items: { type: "integer", minimum: 0 },
        },
      },
    },
  },
} as const;

/** The published schema file's exact text. */
export function strategySchemaText(): string {
  return JSON.stringify(STRATEGY_SCHEMA, null, 2) + "\n";
}

let compiled: ValidateFunction | undefined;

/** The compiled schema validator (compiled once; ajv code generation is not free). */
export function strategyValidator(): ValidateFunction {
  if (!compiled) {
    // allErrors: report every problem of a file at once, not just the first.
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    compiled = ajv.compile(STRATEGY_SCHEMA);
  }
  return compiled;
}

export type SchemaError = ErrorObject;
