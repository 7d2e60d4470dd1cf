// A small, strict argument parser: every command declares its flags; anything else is a
// usage error (exit 2) with a hint, never a silent ignore.

import { didYouMean } from "../core/diagnostics.js";

export interface FlagSpec {
  name: string;
  /** "bool" flags take no value; others take exactly one. */
  kind: "bool" | "string" | "int";
  doc: string;
  /** Value placeholder for help ("FILE", "N"). */
  value?: string;
  /** May be given several times (collected into an array). */
  repeatable?: boolean;
}

export interface ParsedArgs {
  positionals: string[];
  flags: Record<string, string | boolean | number | string[]>;
}

/** How a command was called is wrong: exit 2, a coded message, a hint and the usage line. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
    /** PAR4006 unless the check that failed has a code of its own (PAR7002 for --budget, ...). */
    readonly code = "PAR4006",
  ) {
    super(message);
    this.name = "UsageError";
  }
}

export function parseArgs(argv: readonly string[], specs: readonly FlagSpec[]): ParsedArgs {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const positionals: string[] = [];
  const flags: ParsedArgs["flags"] = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("--") || arg === "-") {
      if (arg.startsWith("-") && arg !== "-" && arg !== "-h") throw new UsageError(`unknown option ${arg}`, "options are spelled --name (see --help)");
      if (arg === "-h") {
        flags.help = true;
        continue;
      }
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const spec = byName.get(name);
    if (!spec) {
      const hint = didYouMean(name, byName.keys());
      throw new UsageError(`unknown option --${name}`, hint ? hint.replace("`", "`--") : "see --help for the options this command takes");
    }
    let value: string | undefined = eq < 0 ? undefined : arg.slice(eq + 1);
    if (spec.kind === "bool") {
      if (value !== undefined) throw new UsageError(`option --${name} takes no value`);
      flags[name] = true;
      continue;
    }
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`option --${name} needs a value (${spec.value ?? spec.kind})`);
      value = argv[++i];
    }
    let parsed: string | number = value;
    if (spec.kind === "int") {
      if (!/^-?\d+$/.test(value)) throw new UsageError(`option --${name} needs an integer, got "${value}"`);
      parsed = Number(value);
    }
    if (spec.repeatable) {
      const prev = (flags[name] as string[] | undefined) ?? [];
      flags[name] = [...prev, String(parsed)];
    } else {
      if (name in flags) throw new UsageError(`option --${name} given twice`);
      flags[name] = parsed;
    }
  }
  return { positionals, flags };
}

/** A string-valued flag, or undefined when it was not given. */
export function str(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags[name];
  return typeof v === "string" ? v : undefined;
}
