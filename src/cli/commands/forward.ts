// `par forward MODEL [--input [NAME=]FILE.npy]... [--out FILE.npy|DIR] [--expect FILE.npy]
//  [--tolerance REL] [--engine tfjs|torch] [--backend B] [--seed N] [--json]`: runs a model's
// forward pass on given arrays with its own weights (an imported model's; a .par model's
// seeded init), on the tfjs runtime in this process or on the torch engine, and writes its
// outputs as .npy: the first to FILE.npy, all to DIR. With
// --expect it compares the first output with an expected array (maxAbsError, and
// maxRelError relative to the expected array's largest magnitude) and exits 1 above the
// tolerance. The arrays' shapes bind the model's symbolic dims (src/frontend/forward-inputs.ts);
// the pass is the pipeline's `forward` stage.

import { mkdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { Diagnostics, parError, ParError } from "../../core/diagnostics.js";
import { assertWritable, writeFileAtomic } from "../../core/files.js";
import { readBoundedBytes } from "../../core/read-text.js";
import type { GivenArray } from "../../frontend/forward-inputs.js";
import { decodeNpy, encodeNpy, type NpyArray } from "../../frontend/npy.js";
import { forward, type ForwardOutput } from "../../pipeline.js";
import { str, UsageError } from "../args.js";
import { JSON_FLAG, type Command, type CommandContext } from "../command.js";
import { MODEL_FLAG, modelFlag, parseOverrides, SET_FLAG } from "../model-flags.js";
import { CliPipeline } from "../stages.js";
import { BACKEND_FLAG, backendFlag } from "./run.js";

export const DEFAULT_FORWARD_TOLERANCE = 1e-4;
const ENGINES = ["tfjs", "torch"] as const;

/** `[NAME=]FILE`: a name when the part before the first `=` is one (no path separator, no .npy). */
function parseInputFlag(item: string): { name?: string; file: string } {
  const eq = item.indexOf("=");
  const head = eq > 0 ? item.slice(0, eq) : "";
  if (head && !/[\\/]/.test(head) && !/\.npy$/i.test(head)) return { name: head, file: item.slice(eq + 1) };
  return { file: item };
}

/** The largest .npy array par forward reads (an input or --expect): 2 GiB. */
export const MAX_NPY_BYTES = 2 * 1024 * 1024 * 1024;

/** A .npy file, read bounded (PAR4001 unreadable, PAR4004 too large) and decoded (PAR6040-). */
function readArray(ctx: CommandContext, file: string): NpyArray {
  return decodeNpy(readBoundedBytes(resolve(ctx.io.cwd, file), file, MAX_NPY_BYTES), file);
}

/** Where --out writes: one FILE.npy, or a DIR (made when its parent folder exists). Checked before the run. */
type ForwardOut = { kind: "file"; shown: string; full: string } | { kind: "dir"; shown: string; full: string };

function forwardOut(ctx: CommandContext, shown: string): ForwardOut {
  const full = resolve(ctx.io.cwd, shown);
  if (ctx.args.positionals.some((p) => resolve(ctx.io.cwd, p) === full)) throw parError("PAR4002", `cannot write \`${shown}\`: it is an input of this command`, { hint: "write the output to another file" });
  if (/\.npy$/i.test(shown)) {
    assertWritable(full, shown);
    return { kind: "file", shown, full };
  }
  const st = statOrUndefined(full);
  if (st && !st.isDirectory()) throw parError("PAR4002", `cannot write into \`${shown}\`: it is a file, not a folder`, { hint: "a FILE.npy gets the first output, a DIR every output" });
  // The folder itself may be new, but not a tree of them (a typo would make one silently).
  if (!st) assertWritable(full, shown);
  return { kind: "dir", shown, full };
}

function statOrUndefined(path: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** A file name for output `name` in a directory (one per output, distinct). */
function outputFileName(name: string, taken: Set<string>): string {
  const base = name.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^\.+/, "") || "output";
  let f = `${base}.npy`;
  for (let k = 2; taken.has(f); k++) f = `${base}_${k}.npy`;
  taken.add(f);
  return f;
}

const toNpy = (o: ForwardOutput): NpyArray => ({ dtype: o.dtype === "f32" ? "f4" : "i4", shape: o.shape, data: o.data });

/** Largest absolute and relative (to the expected array's largest magnitude) errors. */
export function compareArrays(got: ArrayLike<number>, expected: ArrayLike<number>): { maxAbsError: number; maxRelError: number } {
  let abs = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    const diff = Math.abs(got[i] - expected[i]);
    // A NaN on either side is an infinite error, never a silent pass.
    abs = Math.max(abs, Number.isNaN(diff) ? Infinity : diff);
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return { maxAbsError: abs, maxRelError: scale > 0 ? abs / scale : abs };
}

export const forwardCommand: Command = {
  name: "forward",
  summary: "run a model's forward pass on .npy arrays with its own weights; write its outputs, or compare with an expected array",
  usage: "MODEL [--input [NAME=]FILE.npy]... [--out FILE.npy|DIR] [--expect FILE.npy] [--tolerance REL] [--engine tfjs|torch] [--backend B] [--seed N] [--model M] [--set NAME=VALUE ...] [--json]",
  flags: [
    { name: "input", kind: "string", value: "[NAME=]FILE.npy", repeatable: true, doc: "an input array; unnamed ones bind in the order the model declares its inputs (repeatable)" },
    { name: "out", kind: "string", value: "FILE.npy|DIR", doc: "write the first output to FILE.npy, or every output to DIR/<name>.npy" },
    { name: "expect", kind: "string", value: "FILE.npy", doc: "compare the first output with this array; exit 1 above the tolerance" },
    { name: "tolerance", kind: "string", value: "REL", doc: `largest accepted error relative to the expected array's largest magnitude (default ${DEFAULT_FORWARD_TOLERANCE})` },
    { name: "engine", kind: "string", value: "ENGINE", doc: "tfjs (in-process, the default) or torch (the torch engine: python3 with torch, docs/engines.md)" },
    BACKEND_FLAG,
    { name: "seed", kind: "int", value: "N", doc: ".par models: seeds their initial weights (default 1)" },
    MODEL_FLAG,
    SET_FLAG,
    JSON_FLAG,
  ],
  details: [
    "examples:",
    "  par forward docs/examples/mlp.onnx --input docs/examples/mlp.x.npy --out logits.npy",
    "  par forward docs/examples/mlp.onnx --input x=docs/examples/mlp.x.npy --out outs",
    "  par forward docs/examples/mlp.onnx --input docs/examples/mlp.x.npy --expect docs/examples/mlp.logits.npy --tolerance 1e-4 --json",
  ].join("\n"),
  async run(ctx: CommandContext): Promise<number> {
    if (ctx.args.positionals.length !== 1) throw new UsageError(`expected one MODEL file, got ${ctx.args.positionals.length}`, "par forward MODEL --input FILE.npy");
    const [file] = ctx.args.positionals;
    const engine = str(ctx.args, "engine") ?? "tfjs";
    if (!(ENGINES as readonly string[]).includes(engine)) throw new UsageError(`unknown engine ${engine}`, `one of ${ENGINES.join(", ")}`);
    if (engine === "torch" && ctx.args.flags.backend !== undefined) throw new UsageError("--backend chooses the tfjs runtime's backend; it does not apply to --engine torch");
    const tolText = str(ctx.args, "tolerance");
    const tolerance = tolText === undefined ? DEFAULT_FORWARD_TOLERANCE : Number(tolText);
    if (!(tolerance >= 0) || !Number.isFinite(tolerance)) throw new UsageError(`--tolerance needs a non-negative number, got "${tolText}"`);
    const seed = typeof ctx.args.flags.seed === "number" ? ctx.args.flags.seed : 1;
    const outText = str(ctx.args, "out");
    const out = outText === undefined ? undefined : forwardOut(ctx, outText);
    const expectFile = str(ctx.args, "expect");
    const asJson = ctx.args.flags.json === true;

    const given: GivenArray[] = ((ctx.args.flags.input as string[] | undefined) ?? []).map((item) => {
      const { name, file: f } = parseInputFlag(item);
      return { ...(name !== undefined ? { name } : {}), source: f, array: readArray(ctx, f) };
    });
    const expected = expectFile === undefined ? undefined : readArray(ctx, expectFile);
    const overrides = parseOverrides(ctx.args);
    const model = modelFlag(ctx.args);
    const pipeline = new CliPipeline(ctx);
    let run: Awaited<ReturnType<typeof forward>>;
    try {
      run = await forward(file, given, pipeline.ctx, { ...(model !== undefined ? { model } : {}), ...(Object.keys(overrides).length ? { overrides } : {}), seed, engine: engine as "tfjs" | "torch", backend: backendFlag(ctx.args) });
    } catch (e) {
      if (!(e instanceof ParError)) throw e;
      for (const d of e.diagnostics) if (!pipeline.ctx.diagnostics.items.includes(d)) pipeline.ctx.diagnostics.add(d);
      pipeline.report();
      return 1;
    }
    pipeline.report();
    const { model: m, outputs, backend: backendName } = run;
    const first = outputs[0];

    let comparison: { file: string; maxAbsError: number; maxRelError: number; tolerance: number; ok: boolean } | undefined;
    if (expected) {
      const same = expected.shape.length === first.shape.length && expected.shape.every((d, i) => d === first.shape[i]);
      if (!same) {
        const d = new Diagnostics();
        d.error("PAR6046", `--expect ${expectFile}: the array is [${expected.shape.join(", ")}], the model's first output \`${first.name}\` is [${first.shape.join(", ")}]`, {
          expected: `an array shaped [${first.shape.join(", ")}]`,
          hint: "--expect compares the first output; write all outputs with --out DIR to see them",
        });
        ctx.report(d.items);
        return 1;
      }
      const data = expected.data instanceof BigInt64Array ? Array.from(expected.data, Number) : expected.data;
      const e = compareArrays(first.data, data);
      comparison = { file: expectFile!, ...e, tolerance, ok: e.maxRelError <= tolerance };
    }

    const written = new Map<string, string>();
    if (out?.kind === "file") {
      writeFileAtomic(out.full, encodeNpy(toNpy(first)), out.shown);
      written.set(first.name, out.shown);
    } else if (out) {
      if (!statOrUndefined(out.full)) mkdirSync(out.full);
      const taken = new Set<string>();
      for (const o of outputs) {
        const name = outputFileName(o.name, taken);
        writeFileAtomic(join(out.full, name), encodeNpy(toNpy(o)), join(out.shown, name));
        written.set(o.name, join(out.shown, name));
      }
    }
    const ok = comparison?.ok ?? true;
    if (asJson) {
      const summary = {
        ok,
        model: m.model.graph.name,
        format: m.model.format,
        engine,
        backend: backendName,
        inputs: m.inputs.map((i) => {
          const g = m.bound.get(i.name)!;
          return { name: i.name, file: g.source, shape: g.array.shape, dtype: g.array.dtype };
        }),
        outputs: outputs.map((o) => ({ name: o.name, shape: o.shape, dtype: o.dtype, ...(written.has(o.name) ? { file: written.get(o.name) } : {}) })),
        ...(comparison ? { expect: comparison, maxAbsError: comparison.maxAbsError, maxRelError: comparison.maxRelError } : {}),
      };
      ctx.io.out(JSON.stringify(summary, null, 2) + "\n");
    } else {
      for (const o of outputs) ctx.io.out(`output ${o.name} [${o.shape.join(", ")}] ${o.dtype}${written.has(o.name) ? ` -> ${written.get(o.name)}` : ""}\n`);
      if (comparison) ctx.io.out(`expect ${comparison.file}: max abs error ${comparison.maxAbsError.toExponential(3)}, max rel error ${comparison.maxRelError.toExponential(3)} (tolerance ${tolerance}): ${ok ? "ok" : "MISMATCH"}\n`);
    }
    return ok ? 0 : 1;
  },
};
