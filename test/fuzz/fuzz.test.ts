// The fuzz harness (fuzz/, `npm run fuzz`): its oracle catches each way a command can break
// its promises, its mutators are deterministic, and a fixed-seed slice of 2,000 cases — every
// command fed mutated models, bytes, ONNX and Keras files, plans, strategies, cost tables
// and flags — passes. A failure prints the case: `npm run build && npm run fuzz -- --seed
// 20 --cases N` writes it to fuzz-failures/<case>/ to run again by hand.
import { describe, expect, it } from "vitest";
import { formatReport, runFuzz } from "../../fuzz/harness.js";
import { mutateBytes } from "../../fuzz/mutate-bytes.js";
import { mutateJson } from "../../fuzz/mutate-json.js";
import { mutatePar, nearMiss } from "../../fuzz/mutate-text.js";
import { judge, type CaseResult } from "../../fuzz/oracle.js";
import { Rng } from "../../fuzz/rng.js";
import { ensureFuzzBuild } from "../runtime/ensure-build.js";

const ok: CaseResult = { code: 1, stdout: "", stderr: "m.par:1:1: error PAR2001: undefined name `x`\n", outputChars: 40, ms: 5, tempFiles: [], outputsPresent: [] };
const classes = (r: Partial<CaseResult>, outputs: string[] = [], json = false) => judge({ ...ok, ...r }, outputs, json).map((f) => f.class);

describe("the oracle", () => {
  it("accepts coded errors, usage errors and successes", () => {
    expect(classes({})).toEqual([]);
    expect(classes({ code: 2, stderr: "par check: error PAR4006: unknown option --x\nusage: par check FILE...\n" })).toEqual([]);
    expect(classes({ code: 0, stderr: "", outputsPresent: ["p.json"] }, ["p.json"])).toEqual([]);
    expect(classes({ code: 1, stderr: "", stdout: '{"files": [{"diagnostics": [{"code": "PAR2001"}]}]}' }, [], true)).toEqual([]);
  });

  it("flags each broken promise by class", () => {
    expect(classes({ code: 3, stderr: "par check: internal error: boom\n" })).toEqual(["internal-error"]);
    expect(classes({ code: 7 })).toEqual(["exit-status"]);
    expect(classes({ stderr: "error PAR2001: x\nTypeError: y\n    at f (file:///a.js:1:2)\n" })).toEqual(["stack-trace", "bare-error"]);
    expect(classes({ code: 1, stderr: "something went wrong\n" })).toEqual(["uncoded-error"]);
    expect(classes({ code: 2, stderr: "nope\n" })).toEqual(["uncoded-error"]);
    expect(classes({ tempFiles: [".p.json.1.2.tmp"] })).toEqual(["partial-output"]);
    expect(classes({ outputsPresent: ["p.json"] }, ["p.json"])).toEqual(["partial-output"]);
    expect(classes({ code: 0, stderr: "" }, ["p.json"])).toEqual(["missing-output"]);
    expect(classes({ outputChars: 10_000_000 })).toEqual(["flood"]);
    expect(classes({ hung: true })).toEqual(["hang"]);
    expect(classes({ crashed: "the worker exited with code 134" })).toEqual(["crash"]);
  });
});

describe("the mutators", () => {
  const text = "model m(batch = 8) {\n  input x : f32[batch, 4]\n  loss = mse(linear(x, out = 4), x)\n}\n";

  it("are deterministic and change their input", () => {
    const a = Array.from({ length: 20 }, (_, i) => mutatePar(text, new Rng(i)));
    const b = Array.from({ length: 20 }, (_, i) => mutatePar(text, new Rng(i)));
    expect(a).toEqual(b);
    expect(a.filter((m) => m !== text).length).toBeGreaterThan(15);
    expect(nearMiss("linear", new Rng(3))).not.toBe("linear");
    const bytes = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(mutateBytes(bytes, new Rng(1))).toEqual(mutateBytes(bytes, new Rng(1)));
    const json = JSON.stringify({ a: [1, 2, { b: "c" }], d: 4 });
    expect(Array.from({ length: 10 }, (_, i) => mutateJson(json, new Rng(i))).filter((m) => m !== json).length).toBeGreaterThan(7);
  });
});

describe("a fixed-seed slice of the fuzzer", () => {
  it("2,000 cases: every command ends with a coded diagnostic or success, never a stack, a hang or a partial file", async () => {
    ensureFuzzBuild();
    const report = await runFuzz({ seed: 20, cases: 2000, timeoutMs: 60_000 });
    console.log(formatReport(report));
    expect(report.cases).toBe(2000);
    // Every command is exercised.
    for (const cmd of ["check", "fmt", "graph", "simulate", "search", "compile", "import", "verify", "run", "strategy import", "diff"]) expect(report.byCommand[cmd], cmd).toBeGreaterThan(0);
    expect(report.failures.map((f) => `case ${f.index}: par ${f.argv.join(" ")}: ${f.failures.map((x) => `${x.class} ${x.detail}`).join("; ")}`)).toEqual([]);
  }, 900_000);
});
