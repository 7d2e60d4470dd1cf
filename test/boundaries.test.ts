// Layering rules from docs/architecture.md, checked by scanning imports:
// core imports nothing of ours; ops imports only core; sim never imports search; the
// runtime sees only the Plan (never ir, search or cost); only runtime touches tfjs at run time.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = join(import.meta.dirname, "..", "src");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });
}

interface Import {
  file: string;
  target: string;
  typeOnly: boolean;
}

function imports(file: string): Import[] {
  const text = readFileSync(file, "utf8");
  const out: Import[] = [];
  for (const m of text.matchAll(/^\s*import\s+(type\s+)?[^;]*?from\s+"([^"]+)"/gms)) {
    out.push({ file: relative(SRC, file), target: m[2], typeOnly: Boolean(m[1]) });
  }
  for (const m of text.matchAll(/(?<!typeof )import\(\s*"([^"]+)"\s*\)/g)) out.push({ file: relative(SRC, file), target: m[1], typeOnly: false });
  return out;
}

function area(path: string): string {
  return path.split("/")[0];
}

/** The src/ area an import resolves to, or undefined for packages and node built-ins. */
function targetArea(imp: Import): string | undefined {
  if (!imp.target.startsWith(".")) return undefined;
  const resolved = relative(SRC, join(SRC, imp.file, "..", imp.target));
  return resolved.startsWith("..") ? "outside" : area(resolved);
}

const ALL = files(SRC).flatMap(imports);

describe("module boundaries", () => {
  it("core imports nothing of ours", () => {
    const bad = ALL.filter((i) => area(i.file) === "core" && targetArea(i) && targetArea(i) !== "core");
    expect(bad).toEqual([]);
  });

  it("ops import only core (and ops)", () => {
    const bad = ALL.filter((i) => area(i.file) === "ops" && targetArea(i) && !["core", "ops"].includes(targetArea(i)!));
    expect(bad).toEqual([]);
  });

  it("sim never imports search", () => {
    const bad = ALL.filter((i) => area(i.file) === "sim" && targetArea(i) === "search");
    expect(bad).toEqual([]);
  });

  it("the runtime never imports ir, search or cost", () => {
    const bad = ALL.filter((i) => area(i.file) === "runtime" && ["ir", "search", "cost"].includes(targetArea(i) ?? ""));
    expect(bad).toEqual([]);
  });

  it("ops use tfjs only through the injected tf (type imports only)", () => {
    const bad = ALL.filter((i) => area(i.file) === "ops" && i.target.startsWith("@tensorflow/") && !i.typeOnly);
    expect(bad).toEqual([]);
  });

  it("nothing outside runtime and cli imports tfjs at run time", () => {
    const bad = ALL.filter((i) => i.target.startsWith("@tensorflow/") && !i.typeOnly && !["runtime", "cli"].includes(area(i.file)));
    expect(bad).toEqual([]);
  });
});
