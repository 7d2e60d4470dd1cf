// Generic attribute and arity validation from an entry's AttrSpec/InputSpec table, so
// that op files only check what is specific to them.

import { didYouMean } from "../core/diagnostics.js";
import type { TensorType } from "../core/tensor.js";
import { isFloat } from "../core/tensor.js";
import type { AttrSpec, AttrValue, Attrs, InferContext, OpEntry } from "./contract.js";

function kindMatches(spec: AttrSpec, v: AttrValue): boolean {
  switch (spec.kind) {
    case "int": return typeof v === "number" && Number.isInteger(v);
    case "float": return typeof v === "number" && Number.isFinite(v);
    case "bool": return typeof v === "boolean";
    case "string": return typeof v === "string";
    case "ints": return Array.isArray(v) && v.every((x) => Number.isInteger(x));
    case "floats": return Array.isArray(v) && v.every((x) => Number.isFinite(x));
  }
}

function describeKind(spec: AttrSpec): string {
  switch (spec.kind) {
    case "int": return "an integer";
    case "float": return "a number";
    case "bool": return "true or false";
    case "string": return spec.choices ? spec.choices.map((c) => `"${c}"`).join(" | ") : "a string";
    case "ints": return "a list of integers";
    case "floats": return "a list of numbers";
  }
}

/** Each entry's attribute specs by name, built once per (entry, spec list). */
const SPECS = new WeakMap<OpEntry, { list: AttrSpec[]; byName: Map<string, AttrSpec> }>();

function specsByName(entry: OpEntry): Map<string, AttrSpec> {
  const cached = SPECS.get(entry);
  if (cached !== undefined && cached.list === entry.attrs && cached.byName.size === entry.attrs.length) return cached.byName;
  const byName = new Map(entry.attrs.map((a) => [a.name, a]));
  SPECS.set(entry, { list: entry.attrs, byName });
  return byName;
}

/** Validates `given` against the entry's specs and returns attrs with defaults filled in. */
export function resolveAttrs(entry: OpEntry, given: Attrs, ctx: InferContext): Attrs | undefined {
  const out: Attrs = {};
  let ok = true;
  const specs = specsByName(entry);
  for (const name in given) {
    if (!Object.prototype.hasOwnProperty.call(given, name)) continue;
    const value = given[name];
    const spec = specs.get(name);
    if (!spec) {
      ctx.diagnostics.error("PAR2101", `\`${entry.name}\` has no attribute \`${name}\``, {
        pos: ctx.pos,
        expected: entry.attrs.length ? `one of ${entry.attrs.map((a) => a.name).join(", ")}` : "no attributes",
        hint: didYouMean(name, specs.keys()),
      });
      ok = false;
      continue;
    }
    // A single number where a list is expected means "the same for every axis" (kernel = 3).
    const v = (spec.kind === "ints" || spec.kind === "floats") && typeof value === "number" ? [value] : value;
    if (!kindMatches(spec, v)) {
      ctx.diagnostics.error("PAR2103", `attribute \`${name}\` of \`${entry.name}\` must be ${describeKind(spec)}, got ${JSON.stringify(value)}`, {
        pos: ctx.pos,
        expected: describeKind(spec),
      });
      ok = false;
      continue;
    }
    if (spec.choices && typeof v === "string" && !spec.choices.includes(v)) {
      ctx.diagnostics.error("PAR2104", `attribute \`${name}\` of \`${entry.name}\` must be one of ${spec.choices.join(", ")}, got "${v}"`, {
        pos: ctx.pos,
        expected: describeKind(spec),
        hint: didYouMean(v, spec.choices),
      });
      ok = false;
      continue;
    }
    if (spec.min !== undefined) {
      const values = Array.isArray(v) ? v : typeof v === "number" ? [v] : [];
      const bad = values.find((x) => x < spec.min!);
      if (bad !== undefined) {
        ctx.diagnostics.error("PAR2104", `attribute \`${name}\` of \`${entry.name}\` must be ≥ ${spec.min}, got ${bad}`, {
          pos: ctx.pos,
          expected: `a value ≥ ${spec.min}`,
        });
        ok = false;
        continue;
      }
    }
    out[name] = v;
  }
  for (const spec of entry.attrs) {
    if (name_in(out, spec.name) || name_in(given, spec.name)) continue;
    if (spec.default === undefined) {
      ctx.diagnostics.error("PAR2102", `\`${entry.name}\` needs attribute \`${spec.name}\` (${spec.doc})`, {
        pos: ctx.pos,
        expected: `${spec.name} = ${describeKind(spec)}`,
      });
      ok = false;
    } else {
      out[spec.name] = spec.default;
    }
  }
  return ok ? out : undefined;
}

function name_in(a: Attrs, n: string): boolean {
  return Object.prototype.hasOwnProperty.call(a, n);
}

/** Checks the number of inputs and their dtype class. */
export function checkInputs(entry: OpEntry, inputs: TensorType[], ctx: InferContext): boolean {
  let required = 0;
  let variadic = false;
  for (const i of entry.inputs) {
    if (i.variadic) variadic = true;
    else if (!i.optional) required++;
  }
  const max = variadic ? Infinity : entry.inputs.length;
  const min = variadic ? required + 1 : required;
  if (inputs.length < min || inputs.length > max) {
    const names = entry.inputs.map((i) => (i.variadic ? `${i.name}...` : i.optional ? `${i.name}?` : i.name)).join(", ");
    ctx.diagnostics.error("PAR2105", `\`${entry.name}\` takes ${variadic ? `at least ${min}` : min === max ? String(min) : `${min} to ${max}`} input${max === 1 ? "" : "s"}, got ${inputs.length}`, {
      pos: ctx.pos,
      expected: `${entry.name}(${names})`,
    });
    return false;
  }
  let ok = true;
  for (let i = 0; i < inputs.length; i++) {
    const t = inputs[i];
    const spec = entry.inputs[Math.min(i, entry.inputs.length - 1)];
    const want = spec.dtype ?? "float";
    const good = want === "any" || (want === "float" ? isFloat(t.dtype) : !isFloat(t.dtype) && t.dtype !== "bool");
    if (!good) {
      ctx.diagnostics.error("PAR2106", `input \`${spec.name}\` of \`${entry.name}\` must be ${want === "float" ? "a float tensor" : "an integer tensor"}, got ${t.dtype}`, {
        pos: ctx.pos,
        expected: want === "float" ? "f32, f16 or bf16" : "i32 or i64",
      });
      ok = false;
    }
  }
  return ok;
}
