// The published JSON Schemas of plan files (format "par-plan", versions 1 and 2), kept here
// as data so that the compiled validators and the published copies docs/plan.schema.json
// (v1) and docs/plan.v2.schema.json cannot drift apart (a test compares them byte for byte
// with `planSchemaText(version)`). Version 2 is version 1 plus the large-scale additions
// (buffer slices, reducescatter, allgather, release); the v1 schema is exactly
// what it was before they existed. docs/runtime.md documents every field and instruction.

import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import { PLAN_FORMAT, type PlanVersion } from "./plan.js";

export const PLAN_SCHEMA_ID = "urn:par:schema:plan:v1";
export const PLAN_SCHEMA_V2_ID = "urn:par:schema:plan:v2";

const ints = { type: "array", items: { type: "integer", minimum: 0 } } as const;
const str = { type: "string", minLength: 1 } as const;
const region = {
  type: "object",
  required: ["lo", "hi"],
  additionalProperties: false,
  description: "A half-open box [lo, hi) in global coordinates of a tensor or iteration space.",
  properties: { lo: ints, hi: ints },
} as const;
const ref = (name: string) => ({ $ref: `#/$defs/${name}` });

/** One schema object per instruction kind, closed (additionalProperties: false). */
function instruction(kind: string, description: string, props: Record<string, unknown>, optional: string[] = []): Record<string, unknown> {
  return {
    type: "object",
    description,
    required: ["kind", ...Object.keys(props).filter((k) => !optional.includes(k))],
    additionalProperties: false,
    properties: { kind: { const: kind }, ...props },
  };
}

const V1_KINDS = ["feed", "zero", "fill", "copy", "forward", "backward", "send", "recv", "allreduce", "update", "loss"];
const V2_KINDS = [...V1_KINDS, "reducescatter", "allgather", "release"];

/** The schema of plan format `version`. */
function planSchema(version: PlanVersion) {
  const v2 = version === 2;
  const group = { type: "array", minItems: 2, items: { type: "integer", minimum: 0 } } as const;
  return {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  $id: v2 ? PLAN_SCHEMA_V2_ID : PLAN_SCHEMA_ID,
  title: "par plan",
  description: "A lowered training step: per device, buffers and an ordered program of instructions. See docs/runtime.md.",
  type: "object",
  required: ["format", "version", "model", "mesh", "strategy", "seed", "optimizer", "devices", "tensors", "ops", "params", "losses", "programs"],
  additionalProperties: false,
  properties: {
    $schema: { type: "string", description: "Optional pointer to this schema, for editors; ignored by par." },
    format: { const: PLAN_FORMAT, description: "Always \"par-plan\"." },
    version: { const: version, description: "Format version; par rejects versions it does not know." },
    model: str,
    mesh: str,
    strategy: str,
    seed: { type: "integer", description: "Seeds parameter initialisation and synthetic data." },
    optimizer: ref("optimizer"),
    devices: {
      type: "array",
      items: { type: "object", required: ["index", "kind"], additionalProperties: false, properties: { index: { type: "integer", minimum: 0 }, kind: str } },
    },
    tensors: { type: "array", items: ref("tensor") },
    ops: { type: "array", items: ref("op") },
    params: { type: "array", items: ref("param") },
    weights: {
      type: "object",
      description: "Given values of params whose init is {kind: \"values\", ref}, by ref: base64 of little-endian f32, row-major over the whole param.",
      additionalProperties: ref("weight"),
    },
    losses: { type: "array", items: str },
    programs: { type: "array", items: ref("program") },
  },
  $defs: {
    region,
    optimizer: {
      type: "object",
      required: ["kind", "learningRate"],
      additionalProperties: false,
      properties: {
        kind: { enum: ["sgd", "momentum", "adam"] },
        learningRate: { type: "number", exclusiveMinimum: 0 },
        momentum: { type: "number", minimum: 0, maximum: 1 },
        beta1: { type: "number", minimum: 0, exclusiveMaximum: 1 },
        beta2: { type: "number", minimum: 0, exclusiveMaximum: 1 },
        epsilon: { type: "number", exclusiveMinimum: 0 },
      },
    },
    feed: {
      oneOf: [
        { type: "object", required: ["kind"], additionalProperties: false, properties: { kind: { const: "uniform" } } },
        {
          type: "object",
          required: ["kind", "classes", "teacher"],
          additionalProperties: false,
          properties: { kind: { const: "classes" }, classes: { type: "integer", minimum: 1 }, teacher: { type: ["string", "null"] } },
        },
        { type: "object", required: ["kind", "teacher"], additionalProperties: false, properties: { kind: { const: "target" }, teacher: { type: ["string", "null"] } } },
      ],
    },
    tensor: {
      type: "object",
      required: ["id", "shape", "dtype", "role"],
      additionalProperties: false,
      properties: {
        id: str,
        shape: { type: "array", items: { type: "integer", minimum: 1 } },
        dtype: { enum: ["f32", "i32"] },
        role: { enum: ["input", "activation", "param"] },
        feed: ref("feed"),
      },
    },
    op: {
      type: "object",
      required: ["name", "op", "attrs", "inputs", "outputs", "params", "degrees"],
      additionalProperties: false,
      properties: {
        name: str,
        op: str,
        attrs: {
          type: "object",
          additionalProperties: { anyOf: [{ type: "number" }, { type: "string" }, { type: "boolean" }, { type: "array", items: { type: "number" } }] },
        },
        inputs: { type: "array", items: str },
        outputs: { type: "array", items: str },
        params: { type: "array", items: str },
        degrees: { type: "array", items: { type: "integer", minimum: 1 } },
        signature: ref("signature"),
      },
    },
    signature: {
      type: "object",
      description: "The op's iteration space and axis maps as the op registry infers them (optional; engines outside TypeScript read it).",
      required: ["space", "inputMaps", "paramMaps", "outputMaps"],
      additionalProperties: false,
      properties: {
        space: {
          type: "array",
          items: {
            type: "object",
            required: ["name", "cls", "size"],
            additionalProperties: false,
            properties: { name: str, cls: { enum: ["sample", "attribute", "parameter", "reduction"] }, size: { type: "integer", minimum: 1 }, splittable: { type: "boolean" } },
          },
        },
        inputMaps: { type: "array", items: { type: "array", items: ref("axisMap") } },
        paramMaps: { type: "array", items: { type: "array", items: ref("axisMap") } },
        outputMaps: { type: "array", items: { type: "array", items: ref("axisMap") } },
      },
    },
    axisMap: {
      oneOf: [
        { type: "object", required: ["kind", "dim"], additionalProperties: false, properties: { kind: { const: "iter" }, dim: { type: "integer", minimum: 0 } } },
        { type: "object", required: ["kind"], additionalProperties: false, properties: { kind: { const: "full" } } },
        {
          type: "object",
          required: ["kind", "dim", "stride", "dilation", "kernel", "padLo", "size"],
          additionalProperties: false,
          properties: {
            kind: { const: "window" },
            dim: { type: "integer", minimum: 0 },
            stride: { type: "integer", minimum: 1 },
            dilation: { type: "integer", minimum: 1 },
            kernel: { type: "integer", minimum: 1 },
            padLo: { type: "integer" },
            size: { type: "integer", minimum: 1 },
          },
        },
        { type: "object", required: ["kind", "dim", "blockSize"], additionalProperties: false, properties: { kind: { const: "block" }, dim: { type: "integer", minimum: 0 }, blockSize: { type: "integer", minimum: 1 } } },
      ],
    },
    init: {
      oneOf: [
        { type: "object", required: ["kind"], additionalProperties: false, properties: { kind: { enum: ["zeros", "ones"] } } },
        { type: "object", required: ["kind", "bound"], additionalProperties: false, properties: { kind: { const: "uniform" }, bound: { type: "number", minimum: 0 } } },
        { type: "object", required: ["kind", "std"], additionalProperties: false, properties: { kind: { const: "normal" }, std: { type: "number", minimum: 0 } } },
        { type: "object", required: ["kind", "ref"], additionalProperties: false, properties: { kind: { const: "values" }, ref: str } },
      ],
    },
    weight: {
      type: "object",
      required: ["dtype", "data"],
      additionalProperties: false,
      properties: { dtype: { const: "f32" }, data: { type: "string", pattern: "^[A-Za-z0-9+/]*={0,2}$" } },
    },
    param: {
      type: "object",
      required: ["tensor", "init"],
      additionalProperties: false,
      properties: { tensor: str, init: ref("init"), trainable: { const: false, description: "Present (false) for a param the optimizer never updates (a buffer, or frozen): the plan has no update for it." } },
    },
    buffer: {
      type: "object",
      required: ["id", "tensor", "kind", "region", "dtype"],
      additionalProperties: false,
      properties: {
        id: str,
        tensor: str,
        kind: { enum: ["value", "grad", "param", "param_grad", "opt_m", "opt_v"] },
        region: ref("region"),
        dtype: { enum: ["f32", "i32"] },
        ...(v2
          ? {
              slice: {
                type: "array",
                minItems: 2,
                maxItems: 2,
                items: { type: "integer", minimum: 0 },
                description: "The buffer holds only elements [start, end) of the region's row-major order (a ZeRO slice).",
              },
            }
          : {}),
      },
    },
    instruction: {
      type: "object",
      required: ["kind"],
      properties: { kind: { enum: v2 ? V2_KINDS : V1_KINDS } },
      oneOf: [
        instruction("feed", "Fill a graph input's buffer with this step's synthetic data.", { buf: str }),
        instruction("zero", "Set a buffer to zero.", { buf: str }),
        instruction("fill", "Set every element of a buffer to `value`.", { buf: str, value: { type: "number" } }),
        instruction("copy", "Copy (or add) the overlap of `src` and `region` into `dst`.", { src: str, dst: str, region: ref("region"), accumulate: { type: "boolean" } }, ["accumulate"]),
        instruction("forward", "Run task `task` of op `op` over `box`.", {
          op: str,
          task: { type: "integer", minimum: 0 },
          box: ref("region"),
          inputs: { type: "array", items: str },
          params: { type: "array", items: str },
          outputs: { type: "array", items: str },
        }),
        instruction("backward", "Gradients of task `task`: ADDED into dInputs (null: not needed) and dParams.", {
          op: str,
          task: { type: "integer", minimum: 0 },
          box: ref("region"),
          inputs: { type: "array", items: str },
          params: { type: "array", items: str },
          outputs: { type: "array", items: str },
          dOutputs: { type: "array", items: str },
          dInputs: { type: "array", items: { type: ["string", "null"], minLength: 1 } },
          dParams: { type: "array", items: str },
        }),
        instruction("send", "Send `region` of `src` to device `to`; never blocks.", { to: { type: "integer", minimum: 0 }, tag: str, src: str, region: ref("region") }),
        instruction("recv", "Receive `region` from `from` into `dst` (add when `accumulate`).", { from: { type: "integer", minimum: 0 }, tag: str, dst: str, region: ref("region"), accumulate: { type: "boolean" } }, ["accumulate"]),
        instruction("allreduce", "Sum `buf` over `group`; every member gets the sum.", { group, tag: str, buf: str }),
        instruction("update", "Apply the optimizer to `param` with gradient `grad`.", { param: str, grad: str, m: str, v: str }, ["m", "v"]),
        instruction("loss", "This device's share of the loss is in `buf`.", { buf: str }),
        ...(v2
          ? [
              instruction("reducescatter", "Sum `buf` over `group`; member k gets the k-th even slice of the sum in `dst`.", { group, tag: str, buf: str, dst: str }),
              instruction("allgather", "Member k contributes `src` (the k-th even slice); every member's `buf` gets all slices.", { group, tag: str, src: str, buf: str }),
              instruction("release", "The contents of `buf` are dead: drop its storage until its next (pure) write.", { buf: str }),
            ]
          : []),
      ],
    },
    program: {
      type: "object",
      required: ["device", "buffers", "instructions"],
      additionalProperties: false,
      properties: {
        device: { type: "integer", minimum: 0 },
        buffers: { type: "array", items: ref("buffer") },
        instructions: { type: "array", items: ref("instruction") },
      },
    },
  },
  };
}

export const PLAN_SCHEMA = planSchema(1);
export const PLAN_SCHEMA_V2 = planSchema(2);

/** The published schema file's exact text (docs/plan.schema.json for v1, docs/plan.v2.schema.json for v2). */
export function planSchemaText(version: PlanVersion = 1): string {
  return JSON.stringify(version === 2 ? PLAN_SCHEMA_V2 : PLAN_SCHEMA, null, 2) + "\n";
}

const compiled = new Map<PlanVersion, ValidateFunction>();

export function planValidator(version: PlanVersion = 1): ValidateFunction {
  let v = compiled.get(version);
  if (!v) {
    // allowUnionTypes: `teacher` and dInputs entries are string-or-null.
    const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
    v = ajv.compile(version === 2 ? PLAN_SCHEMA_V2 : PLAN_SCHEMA);
    compiled.set(version, v);
  }
  return v;
}

export type PlanSchemaError = ErrorObject;
