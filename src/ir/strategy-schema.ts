// The published JSON Schemas of strategy files (format "par-strategy"): version 1 (per-op
// SOAP configs) and version 2 (adds replicas, pipeline, ZeRO, recomputation, precision and
// device ranges). The schemas live here as data so that the compiled validators and the
// published copies in strategies/strategy.schema.json (v1) and strategies/strategy.v2.schema.json
// cannot drift apart: a test compares them byte for byte with `strategySchemaText(version)`.
// docs/strategies.md documents every field.

import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import type { PipelineSchedule, Precision, ZeroStage } from "./strategy.js";

export const STRATEGY_FORMAT = "par-strategy";
/**
 * The versions this par reads. A version is added on any change that an older reader
 * would misread; readers reject versions they do not know. Writers write the oldest
 * version that can hold the strategy (v1 unless a large-scale field is used).
 */
export const STRATEGY_VERSIONS = [1, 2] as const;
export type StrategyVersion = (typeof STRATEGY_VERSIONS)[number];
/** The newest version. */
export const STRATEGY_VERSION: StrategyVersion = 2;
export const STRATEGY_SCHEMA_ID = "urn:par:schema:strategy:v1";
export const STRATEGY_SCHEMA_V2_ID = "urn:par:schema:strategy:v2";

/**
 * A strategy file. Dims are keyed by parallel-dim name; omitted dims have degree 1.
 * Version 1 has no large-scale fields and only array device lists.
 */
export interface StrategyJson {
  $schema?: string;
  format: typeof STRATEGY_FORMAT;
  version: StrategyVersion;
  name: string;
  model: string;
  mesh: string;
  replicas?: { count: number; offset: number };
  pipeline?: PipelineJson;
  zero?: ZeroStage;
  recompute?: string[];
  precision?: Precision;
  ops: Record<string, OpConfigJson>;
}

/** A device list: indices, or (version 2) a range text such as "0..3, 8". */
export type DevicesJson = number[] | string;

export interface OpConfigJson {
  dims?: Record<string, number>;
  devices: DevicesJson;
}

export interface PipelineJson {
  microbatches: number;
  schedule: PipelineSchedule;
  virtualStages?: number;
  stages: { ops: [string, string]; devices: DevicesJson }[];
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
    version: { const: 1, description: "Format version; par rejects versions it does not know." },
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

const intAtLeast1 = { type: "integer", minimum: 1 } as const;

/** Version 2: version 1's fields, the large-scale ones, and device lists that may be range texts. */
export const STRATEGY_SCHEMA_V2 = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  $id: STRATEGY_SCHEMA_V2_ID,
  title: "par strategy, version 2",
  description:
    "A parallelization strategy for one model on one device mesh: for every op, a degree per parallel dim (FlexFlow's SOAP config) and the device of each task, for one micro-batch of replica 0; and optionally data-parallel replicas, pipeline stages with micro-batches and a schedule, ZeRO sharding, recomputation and the compute precision. See docs/strategies.md.",
  type: "object",
  required: ["format", "version", "name", "model", "mesh", "ops"],
  additionalProperties: false,
  properties: {
    $schema: STRATEGY_SCHEMA.properties.$schema,
    format: STRATEGY_SCHEMA.properties.format,
    version: { const: 2, description: "Format version; par rejects versions it does not know." },
    name: STRATEGY_SCHEMA.properties.name,
    model: STRATEGY_SCHEMA.properties.model,
    mesh: STRATEGY_SCHEMA.properties.mesh,
    replicas: {
      type: "object",
      description: "Data-parallel replicas: replica r runs every task of replica 0 on device d + r·offset and processes samples [r·B/count, (r+1)·B/count).",
      required: ["count", "offset"],
      additionalProperties: false,
      properties: {
        count: { ...intAtLeast1, description: "How many replicas (1: none)." },
        offset: { ...intAtLeast1, description: "Device-index distance between consecutive replicas." },
      },
    },
    pipeline: {
      type: "object",
      description: "Pipeline parallelism: the ops cut into stages on their own devices, run as micro-batches under a schedule.",
      required: ["microbatches", "schedule", "stages"],
      additionalProperties: false,
      properties: {
        microbatches: { ...intAtLeast1, description: "Micro-batches per step and replica; each holds batch / (replicas × microbatches) samples." },
        schedule: { enum: ["gpipe", "1f1b", "interleaved"], description: "gpipe (all forwards, then all backwards), 1f1b (PipeDream-flush) or interleaved (1F1B with virtual stages)." },
        virtualStages: { ...intAtLeast1, description: "Interleaved schedule only: stages per device group (≥ 2); stage k runs on the devices of stage k mod (stages / virtualStages)." },
        stages: { type: "array", minItems: 1, description: "Stages in order; together they cover every op once, contiguous in topological order.", items: { $ref: "#/$defs/stage" } },
      },
    },
    zero: { enum: [0, 1, 2, 3], description: "ZeRO: 0 off, 1 shards optimizer state, 2 also gradients, 3 also weights, across each weight's data-parallel group." },
    recompute: {
      type: "array",
      description: "Ops whose outputs are not kept for backward but recomputed from kept values.",
      uniqueItems: true,
      items: { type: "string", minLength: 1 },
    },
    precision: { enum: ["f32", "bf16", "f16"], description: "Compute and activation dtype (master weights and optimizer state stay f32); absent: f32." },
    ops: {
      type: "object",
      description: "Config per op name, for one micro-batch of replica 0. A complete strategy configures every op of the model.",
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
        dims: STRATEGY_SCHEMA.$defs.opConfig.properties.dims,
        devices: {
          $ref: "#/$defs/devices",
          description: "The device index of each task; tasks are numbered row-major over the op's dims (last dim fastest). Length = product of the degrees.",
        },
      },
    },
    stage: {
      type: "object",
      required: ["ops", "devices"],
      additionalProperties: false,
      properties: {
        ops: { type: "array", description: "The stage's first and last op (topological order).", minItems: 2, maxItems: 2, items: { type: "string", minLength: 1 } },
        devices: { $ref: "#/$defs/devices", description: "The devices the stage runs on (replica 0's)." },
      },
    },
    devices: {
      type: ["array", "string"],
      description: "Device indices: an array, or a text of indices and inclusive ascending ranges such as \"0..3, 8\".",
      minItems: 1,
      items: { type: "integer", minimum: 0 },
      pattern: "^\\s*\\d+(\\s*\\.\\.\\s*\\d+)?(\\s*,\\s*\\d+(\\s*\\.\\.\\s*\\d+)?)*\\s*$",
    },
  },
} as const;

const SCHEMAS = { 1: STRATEGY_SCHEMA, 2: STRATEGY_SCHEMA_V2 } as const;

/** The published schema file's exact text, for a format version (strategies/strategy.schema.json, strategies/strategy.v2.schema.json). */
export function strategySchemaText(version: StrategyVersion = 1): string {
  return JSON.stringify(SCHEMAS[version], null, 2) + "\n";
}

const compiled = new Map<StrategyVersion, ValidateFunction>();

/** The compiled schema validator of a version (compiled once; ajv code generation is not free). */
export function strategyValidator(version: StrategyVersion = 1): ValidateFunction {
  let v = compiled.get(version);
  if (!v) {
    // allErrors: report every problem of a file at once, not just the first. verbose: errors
    // carry the schema they failed, so an unknown field can list the allowed ones.
    // allowUnionTypes: a device list is an array or a range text.
    const ajv = new Ajv2020({ allErrors: true, strict: true, verbose: true, allowUnionTypes: true });
    v = ajv.compile(SCHEMAS[version]);
    compiled.set(version, v);
  }
  return v;
}

export type SchemaError = ErrorObject;
