#!/usr/bin/env node
// The `par` command: dispatch, help, and the one place where diagnostics and unexpected
// failures become text and exit codes (1 input errors, 2 usage errors, 3 internal errors).

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ParError, type Diagnostic } from "../core/diagnostics.js";
import { parseArgs, UsageError } from "./args.js";
import type { Command, CommandContext, Io } from "./command.js";
import { processIo } from "./process-io.js";
import { COMMANDS } from "./registry.js";
import { Progress } from "./progress.js";
import { DiagnosticPrinter } from "./report.js";

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string };
    return pkg.version;
  } catch {
    return "unknown";
  }
}

export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    "par: a parallelization-strategy compiler for deep-learning training (FlexFlow's SOAP space)",
    "",
    "usage: par COMMAND [ARGS] [--help]",
    "",
    "commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Run `par COMMAND --help` for a command's options.",
  ].join("\n");
}

export function commandHelp(c: Command): string {
  const width = Math.max(6, ...c.flags.map((f) => f.name.length + (f.value ? f.value.length + 1 : 0)));
  return [
    `usage: par ${c.name} ${c.usage}`,
    "",
    c.summary,
    "",
    "options:",
    ...c.flags.map((f) => `  --${(f.name + (f.value ? ` ${f.value}` : "")).padEnd(width)}  ${f.doc}`),
    `  --${"help".padEnd(width)}  show this help`,
    ...(c.details ? ["", c.details] : []),
  ].join("\n");
}

/** Runs `par` with argv (without node and script) and returns the exit code. */
export async function runCli(argv: readonly string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    io.out(mainHelp() + "\n");
    if (name !== undefined) return 0;
    io.err("par: error PAR4006: no command given\n");
    return 2;
  }
  if (name === "--version") {
    io.out(`par ${version()}\n`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    const close = COMMANDS.map((c) => c.name).find((c) => c.startsWith(name) || name.startsWith(c));
    io.err(`par: error PAR4006: unknown command \`${name}\`${close ? ` (did you mean \`${close}\`?)` : ""}\nRun \`par --help\` for the list of commands.\n`);
    return 2;
  }
  const sources = new Map<string, string>();
  let asJson = false;
  // Made once the flags are read (--json turns it off); every write erases its line first.
  let progress = new Progress(() => undefined, false);
  const shown: Io = { ...io, out: (t) => (progress.clear(), io.out(t)), err: (t) => (progress.clear(), io.err(t)) };
  const printer = new DiagnosticPrinter(shown, sources, () => asJson);
  try {
    const args = parseArgs(rest, [...command.flags, { name: "help", kind: "bool", doc: "show help" }]);
    if (args.flags.help) {
      io.out(commandHelp(command) + "\n");
      return 0;
    }
    asJson = args.flags.json === true;
    progress = Progress.forIo(io, asJson);
    const ctx: CommandContext = {
      args,
      io: shown,
      sources,
      progress,
      report(diagnostics: readonly Diagnostic[]) {
        printer.print(diagnostics);
      },
    };
    return await command.run(ctx);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`par ${name}: error ${e.code}: ${e.message}\n${e.hint ? `hint: ${e.hint}\n` : ""}usage: par ${command.name} ${command.usage}\n`);
      return 2;
    }
    if (e instanceof ParError) {
      printer.print(e.diagnostics);
      return 1;
    }
    // A bug in par, not in the input: say so plainly; the stack only with PAR_DEBUG=1.
    const msg = e instanceof Error ? e.message : String(e);
    io.err(`par ${name}: internal error: ${msg}\nThis is a bug in par; rerun with PAR_DEBUG=1 for details.\n`);
    if (process.env.PAR_DEBUG && e instanceof Error && e.stack) io.err(e.stack + "\n");
    return 3;
  } finally {
    progress.end();
    printer.finish();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === (await import("node:fs")).realpathSync(process.argv[1])) {
  const code = await runCli(process.argv.slice(2), processIo());
  process.exitCode = code;
}
