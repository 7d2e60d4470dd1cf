// `par fmt FILE... [--write] [--check] [--json]`: print a .par file in canonical form,
// rewrite it in place (atomically), or check that it already is. A file with syntax errors
// is never formatted: a partial program would lose the text the parser skipped.

import { resolve } from "node:path";
import { Diagnostics, ParError, type Diagnostic } from "../../core/diagnostics.js";
import { writeFileAtomic } from "../../core/files.js";
import { parse } from "../../frontend/parse.js";
import { format } from "../../frontend/print.js";
import { UsageError } from "../args.js";
import { JSON_FLAG, type Command, type CommandContext } from "../command.js";
import { readSource } from "../../core/read-source.js";

interface FileResult {
  file: string;
  /** False when the file was already in canonical form. */
  changed: boolean;
  written?: boolean;
  /** The formatted text (printing mode only). */
  text?: string;
  /** The canonical text, for --check's report (not in the JSON output). */
  formatted?: string;
}

/** PAR4005 at the first line that differs from the canonical form, which it shows. */
function notFormatted(file: string, text: string, formatted: string): Diagnostic {
  const have = text.split(/\r\n?|\n/);
  const want = formatted.split("\n");
  let line = 0;
  while (line < have.length && line < want.length && have[line] === want[line]) line++;
  const column = [...(have[line] ?? "")].findIndex((ch, i) => ch !== (want[line] ?? "")[i]) + 1 || (have[line] ?? "").length + 1;
  return {
    code: "PAR4005",
    severity: "error",
    message: `not in canonical form from line ${line + 1} on`,
    pos: { file, line: line + 1, column },
    expected: want[line] === undefined ? "the end of the file" : `\`${want[line].trim()}\``,
    hint: `run \`par fmt --write ${file}\``,
  };
}

export const fmtCommand: Command = {
  name: "fmt",
  summary: "format .par files canonically (print, --write in place, or --check)",
  usage: "FILE... [--write] [--check] [--json]",
  flags: [
    { name: "write", kind: "bool", doc: "rewrite the files in place (atomically) instead of printing" },
    { name: "check", kind: "bool", doc: "print nothing when every file is formatted; otherwise PAR4005 for each other file (at its first differing line) and exit 1" },
    JSON_FLAG,
  ],
  details: ["examples:", "  par fmt models/mlp.par", "  par fmt --write models/*.par", "  par fmt --check models/*.par   # in CI"].join("\n"),
  run(ctx: CommandContext): number {
    const { positionals, flags } = ctx.args;
    const write = flags.write === true;
    const check = flags.check === true;
    if (positionals.length === 0) throw new UsageError("no input file", "give a .par file: par fmt FILE");
    if (write && check) throw new UsageError("--write and --check exclude each other", "use --check in CI, --write to fix");
    if (!write && !check && positionals.length > 1) throw new UsageError("printing takes one file", "use --write or --check for several files");

    const results: FileResult[] = [];
    let failed = false;
    for (const file of positionals) {
      const result = formatFile(ctx, file, { write, check });
      if (result) results.push(result);
      else failed = true;
    }
    const unformatted = results.filter((r) => r.changed);
    if (check) ctx.report(unformatted.map((r) => notFormatted(r.file, ctx.sources.get(r.file) ?? "", r.formatted ?? "")));
    if (flags.json === true) {
      ctx.io.out(JSON.stringify({ files: results }, null, 2) + "\n");
    } else if (write) {
      for (const r of results) if (r.written) ctx.io.err(`formatted ${r.file}\n`);
    } else if (results[0]?.text !== undefined) {
      ctx.io.out(results[0].text);
    }
    return failed || (check && unformatted.length > 0) ? 1 : 0;
  },
};

function formatFile(ctx: CommandContext, file: string, mode: { write: boolean; check: boolean }): FileResult | undefined {
  const text = readSource(file, ctx, ctx.io.cwd);
  if (text === undefined) return undefined;
  const diagnostics = new Diagnostics();
  const program = parse(text, file, diagnostics);
  ctx.report(diagnostics.items);
  if (!program || diagnostics.hasErrors()) return undefined;
  const formatted = format(program);
  const result: FileResult = { file, changed: formatted !== text };
  if (mode.check && result.changed) Object.defineProperty(result, "formatted", { value: formatted, enumerable: false });
  if (mode.write) {
    result.written = false;
    if (result.changed) {
      try {
        writeFileAtomic(resolve(ctx.io.cwd, file), formatted);
        result.written = true;
      } catch (e) {
        if (e instanceof ParError) {
          ctx.report(e.diagnostics);
          return undefined;
        }
        const sink = new Diagnostics();
        sink.error("PAR4002", `cannot write file \`${file}\`: ${e instanceof Error ? e.message : String(e)}`, { hint: "check that the folder is writable" });
        ctx.report(sink.items);
        return undefined;
      }
    }
  } else if (!mode.check) {
    result.text = formatted;
  }
  return result;
}
