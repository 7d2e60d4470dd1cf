// `par import MODEL.onnx|model.json|config.json [--out FILE.par] [--json] [--input NAME=AxBx..]
//  [--batch N] [--loss KIND] [--set NAME=VALUE] [--name NAME]`: imports a model and prints it as
// a readable .par model (graphToPar; an LLM config.json prints its generated program, with
// `--set` binding batch, seq, ...), atomically to --out or to stdout. --json prints a summary (ops, parameters,
// the importer's unsupported operators) — also when the import fails because of them.
// Every other command takes the model file directly; `import` is for reading and editing
// the .par form (which drops the trained weights: compiling it initialises at random).

import { Diagnostics } from "../../core/diagnostics.js";
import { identifierOf } from "../../frontend/import-build.js";
import { graphToPar } from "../../frontend/import-to-par.js";
import { modelFormatOf } from "../../frontend/load-model.js";
import { lossSummary } from "../../frontend/loss-summary.js";
import { UsageError } from "../args.js";
import { JSON_FLAG, type Command, type CommandContext } from "../command.js";
import { IMPORT_FLAGS, loadModelResultFromArgs, SET_FLAG } from "../model-flags.js";
import { outputFlag, writeOutput } from "../output-path.js";

/** `model OLD(` → `model NEW(` in a generated program (its only declaration of the name). */
function renameModel(source: string, from: string, to: string): string {
  return from === to ? source : source.replace(new RegExp(`^model ${from}\\(`, "m"), `model ${to}(`);
}

export const importCommand: Command = {
  name: "import",
  summary: "import an ONNX model, a TensorFlow.js model.json or a Hugging Face LLM config.json as a readable .par model",
  usage: "MODEL.onnx|model.json|config.json [--out FILE.par] [--json] [--input NAME=AxBx..] [--batch N] [--loss KIND] [--set NAME=VALUE] [--name NAME]",
  flags: [
    { name: "out", kind: "string", value: "FILE.par", doc: "write the .par model to FILE (atomically) instead of stdout" },
    { name: "name", kind: "string", value: "NAME", doc: "the name of the printed model (default: the imported graph's)" },
    ...IMPORT_FLAGS,
    { ...SET_FLAG, doc: "LLM configs: bind a model parameter (repeatable), e.g. --set seq=2048 --set batch=16" },
    JSON_FLAG,
  ],
  details: [
    "examples:",
    "  par import docs/examples/mlp.onnx --batch 32 --out mlp.par",
    "  par import docs/examples/web_model/model.json --batch 8 --json",
    "  par import models/llm/llama-2-7b.json --set seq=2048 --out llama.par",
    "Commands such as check, graph, simulate, search and compile take the .onnx / model.json",
    "file directly (keeping its trained weights); see docs/import.md.",
  ].join("\n"),
  run(ctx: CommandContext): number {
    if (ctx.args.positionals.length !== 1) throw new UsageError(`expected one MODEL file, got ${ctx.args.positionals.length}`, "par import MODEL.onnx|model.json");
    const [file] = ctx.args.positionals;
    if (modelFormatOf(file, ctx.io.cwd) === "par") throw new UsageError(`${file} is already a .par model`, "par import reads .onnx files and TensorFlow.js model.json files");
    const name = typeof ctx.args.flags.name === "string" ? ctx.args.flags.name : undefined;
    if (name !== undefined && identifierOf(name, "") !== name) throw new UsageError(`--name needs an identifier, got "${name}"`, `for example --name ${identifierOf(name, "imported")}`);
    // --set binds an LLM config's parameters; an ONNX/model.json import takes --input/--batch.
    if (ctx.args.flags.set !== undefined && modelFormatOf(file, ctx.io.cwd) !== "llm") {
      throw new UsageError("--set applies to LLM configs (config.json), not to ONNX models or model.json", "an imported model's shapes come from --input NAME=AxBx.. and --batch N", "PAR4013");
    }
    const asJson = ctx.args.flags.json === true;
    const out = outputFlag(ctx, "out");
    const diagnostics = new Diagnostics();
    const r = loadModelResultFromArgs(ctx, file, diagnostics);
    const unsupported = r.unsupported.map((u) => ({ op: u.op, nodes: u.nodes }));
    const failed = !r.model || diagnostics.hasErrors();
    if (failed) {
      ctx.report(diagnostics.items);
      const counts = r.account ? { parameters: r.account.parameters, trainableParameters: r.account.trainable, buffers: r.account.buffers } : {};
      if (asJson) ctx.io.out(JSON.stringify({ file, format: r.format ?? null, ok: false, ...counts, unsupported, unmappable: r.unmappable ?? [], errors: diagnostics.errors.map((d) => d.code) }, null, 2) + "\n");
      return 1;
    }
    const { graph, weights, format, loss } = r.model!;
    const modelName = name ?? graph.name;
    // An LLM config's program is printed as generated (blocks and a layer loop), renamed on --name.
    const text = r.model!.source !== undefined ? renameModel(r.model!.source, graph.name, modelName) : graphToPar(graph, modelName);
    ctx.report(diagnostics.items);
    if (out !== undefined) writeOutput(out, text);
    if (asJson) {
      const summary: Record<string, unknown> = {
        file,
        format,
        ok: true,
        model: identifierOf(modelName, "imported"),
        ops: graph.ops.size,
        parameters: graph.parameterCount(),
        trainableParameters: graph.trainableParameterCount(),
        buffers: graph.bufferCount(),
        weights: weights?.size ?? 0,
        inputs: graph.inputs.map((id) => ({ name: id, shape: graph.tensor(id).type.shape, dtype: graph.tensor(id).type.dtype })),
        losses: graph.lossOps().map((o) => o.op),
        loss: lossSummary(graph, loss),
        unsupported,
      };
      if (out !== undefined) summary.out = out.shown;
      else summary.par = text;
      ctx.io.out(JSON.stringify(summary, null, 2) + "\n");
    } else if (out === undefined) {
      ctx.io.out(text);
    } else {
      ctx.io.out(`${file}: ${graph.ops.size} ops, ${graph.parameterCount()} parameters -> ${out.shown}\n`);
    }
    return 0;
  },
};
