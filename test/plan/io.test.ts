import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Diagnostics, ParError } from "../../src/core/diagnostics.js";
import { lower, singleDeviceStrategy } from "../../src/codegen/lower.js";
import { encodeF32, planWeightsOf } from "../../src/plan/weights.js";
import type { Plan } from "../../src/plan/plan.js";
import { readPlan, validatePlan, writePlan, planText } from "../../src/plan/io.js";
import { planSchemaText } from "../../src/plan/schema.js";
import { withSignatures } from "../../src/plan/signatures.js";
import { CODEGEN_CODES } from "../../src/plan/codes.js";
import { addOp, meshOf, mlp, SGD, tt } from "../runtime/graphs.js";
import { Graph } from "../../src/ir/graph.js";
import { builtinMesh } from "../../src/core/builtin-meshes.js";
import { baseline } from "../../src/ir/baselines.js";
import { compile, createContext, simulate } from "../../src/pipeline.js";

const SCHEMA_FILE = join(import.meta.dirname, "..", "..", "docs", "plan.schema.json");

function basePlan(): Plan {
  const g = mlp();
  const ops: Record<string, { degrees: number[]; devices: number[] }> = {};
  for (const o of g.topoOrder()) ops[o.name] = { degrees: o.sig.space.map((_, i) => (i === 0 ? 2 : 1)), devices: [0, 1] };
  ops.fc1 = { degrees: [1, 2, 1], devices: [1, 0] };
  return JSON.parse(JSON.stringify(lower(g, { name: "t", model: "mlp", mesh: "cpu2", ops }, meshOf(2), { seed: 1, optimizer: SGD })));
}

function codes(json: unknown, text?: string): string[] {
  const d = new Diagnostics();
  const plan = validatePlan(json, "plan.json", d, text);
  if (d.hasErrors()) expect(plan).toBeUndefined();
  return d.items.map((x) => x.code);
}

describe("plan validation", () => {
  it("accepts a lowered plan", () => {
    expect(codes(basePlan())).toEqual([]);
  });

  it("the published schemas are the compiled ones (v1 and v2)", () => {
    const v2File = SCHEMA_FILE.replace(/plan\.schema\.json$/, "plan.v2.schema.json");
    if (process.env.PAR_WRITE_SCHEMA) {
      writeFileSync(SCHEMA_FILE, planSchemaText());
      writeFileSync(v2File, planSchemaText(2));
    }
    expect(readFileSync(SCHEMA_FILE, "utf8")).toBe(planSchemaText());
    expect(readFileSync(v2File, "utf8")).toBe(planSchemaText(2));
  });

  it("PAR5001: schema errors name their JSON path and line", () => {
    const p = basePlan() as unknown as Record<string, unknown>;
    delete p.seed;
    (p.programs as Plan["programs"])[0].instructions[0] = { kind: "zero" } as never;
    const text = JSON.stringify(p, null, 1);
    const d = new Diagnostics();
    validatePlan(JSON.parse(text), "plan.json", d, text);
    expect(d.items.every((x) => x.code === "PAR5001")).toBe(true);
    expect(d.items.map((x) => x.message).join("\n")).toMatch(/must have required property 'seed'/);
    const instr = d.items.find((x) => x.message.includes("/programs/0/instructions/0"));
    expect(instr?.message).toMatch(/'buf'/);
    expect(instr?.pos?.line).toBeGreaterThan(1);
  });

  it("PAR5002 / PAR5003: not a plan, or a newer version", () => {
    expect(codes({ format: "par-strategy" })).toEqual(["PAR5002"]);
    expect(codes([1, 2])).toEqual(["PAR5002"]);
    expect(codes({ ...basePlan(), version: 3 })).toEqual(["PAR5003"]);
  });

  it("PAR5004: an instruction names a buffer its device lacks", () => {
    const p = basePlan();
    p.programs[1].instructions.unshift({ kind: "zero", buf: "nope" });
    expect(codes(p)).toEqual(["PAR5004"]);
  });

  it("PAR5005: a send without its recv, a region shape mismatch, an incomplete all-reduce", () => {
    const p = basePlan();
    const i = p.programs[0].instructions.findIndex((x) => x.kind === "recv");
    p.programs[0].instructions.splice(i, 1);
    expect(codes(p)).toContain("PAR5005");

    const q = basePlan();
    const r = q.programs[0].instructions.find((x) => x.kind === "recv")!;
    if (r.kind === "recv") r.region = { lo: r.region.lo.map(() => 0), hi: r.region.hi.map(() => 1) };
    expect(codes(q)).toEqual(["PAR5005"]);

    const s = basePlan();
    const k = s.programs[1].instructions.findIndex((x) => x.kind === "allreduce");
    s.programs[1].instructions.splice(k, 1);
    expect(codes(s)).toEqual(["PAR5005"]);
  });

  it("PAR5006: an op kind the registry does not know", () => {
    const p = basePlan();
    p.ops[1].op = "frobnicate";
    expect(codes(p)).toEqual(["PAR5006"]);
  });

  it("PAR5007: a param whose tensor is not a param", () => {
    const p = basePlan();
    p.params[0].tensor = "x";
    expect(codes(p)).toEqual(["PAR5007"]);
  });

  it("PAR5008: a tensor declared twice", () => {
    const p = basePlan();
    p.tensors.push({ ...p.tensors[0] });
    expect(codes(p)).toEqual(["PAR5008"]);
  });

  it("PAR5009: unknown loss tensor and out-of-bounds buffer region", () => {
    const p = basePlan();
    p.losses = ["nope"];
    p.programs[0].buffers[0].region = { lo: [0, 0], hi: [99, 1] };
    expect(codes(p)).toEqual(["PAR5009", "PAR5009"]);
  });

  it("PAR5010: programs that deadlock (each device receives first)", () => {
    const region = { lo: [0], hi: [2] };
    const p = basePlan();
    p.tensors.push({ id: "a", shape: [2], dtype: "f32", role: "activation" });
    for (const [me, peer] of [[0, 1], [1, 0]]) {
      p.programs[me].buffers.push({ id: "ba", tensor: "a", kind: "value", region, dtype: "f32" });
      p.programs[me].instructions.unshift(
        { kind: "recv", from: peer, tag: `dl${peer}`, dst: "ba", region },
        { kind: "send", to: peer, tag: `dl${me}`, src: "ba", region },
      );
    }
    expect(codes(p)).toEqual(["PAR5010"]);
  });

  it("PAR5011 and the atomic write/read round trip", () => {
    const dir = mkdtempSync(join(tmpdir(), "par-plan-"));
    const plan = basePlan();
    writePlan(join(dir, "p.json"), plan);
    const d = new Diagnostics();
    expect(readPlan(join(dir, "p.json"), d)).toEqual(plan);
    expect(readFileSync(join(dir, "p.json"), "utf8")).toBe(planText(plan));
    writeFileSync(join(dir, "bad.json"), "{ not json");
    expect(readPlan(join(dir, "bad.json"), d)).toBeUndefined();
    expect(d.items.map((x) => x.code)).toEqual(["PAR5011"]);
  });

  it("PAR5012 and PAR5013: given weights (init `values`) missing, of the wrong length, unused, or over the cap", () => {
    const g = mlp();
    const w = new Map([["fc1.weight", new Float32Array(6 * 5).fill(0.5)]]);
    const withWeights = (): Plan => JSON.parse(JSON.stringify(lower(g, singleDeviceStrategy(g), meshOf(1), { seed: 1, optimizer: SGD, weights: w })));
    const ok = withWeights();
    expect(ok.params.find((p) => p.tensor === "fc1.weight")!.init).toEqual({ kind: "values", ref: "fc1.weight" });
    expect(codes(ok)).toEqual([]);
    const missing = withWeights();
    delete missing.weights;
    expect(codes(missing)).toEqual(["PAR5012"]);
    const short = withWeights();
    short.weights!["fc1.weight"].data = encodeF32(new Float32Array(29));
    expect(codes(short)).toEqual(["PAR5012"]);
    const unused = withWeights();
    unused.weights!.extra = { dtype: "f32", data: "" };
    expect(codes(unused)).toEqual(["PAR5012"]);
    const notBase64 = withWeights();
    notBase64.weights!["fc1.weight"].data = "not base64!";
    expect(codes(notBase64)).toEqual(["PAR5001"]);
    let thrown: unknown;
    try {
      planWeightsOf(w, new Map([["fc1.weight", [6, 5]]]), 16);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ParError);
    expect((thrown as ParError).diagnostics.map((d) => d.code)).toEqual(["PAR5013"]);
  });

  it("PAR5023: a tensor edited by hand disagrees with the shapes its op re-infers (issue 20, row 10)", () => {
    // A wider input: every region still lies inside it, but fc1's weight no longer fits.
    const wider = basePlan();
    wider.tensors.find((t) => t.id === "x")!.shape = [8, 12];
    const d = new Diagnostics();
    expect(validatePlan(wider, "plan.json", d)).toBeUndefined();
    expect(d.items.map((x) => x.code)).toEqual(["PAR5023"]);
    expect(d.items[0].message).toBe("`/ops/0/params/0`: tensor fc1.weight is f32[6, 5], but fc1 (linear) makes f32[12, 5] from x [8, 12]");
    // An output whose dtype was changed; degrees that do not match the op's dims; attributes.
    const dtype = basePlan();
    dtype.tensors.find((t) => t.id === "act")!.dtype = "i32";
    expect(codes(dtype)).toContain("PAR5023");
    const degrees = basePlan();
    degrees.ops[0].degrees = [2, 1];
    expect(codes(degrees)).toEqual(["PAR5023"]);
    const attrs = basePlan();
    attrs.ops[0].attrs = { out: "five" };
    expect(codes(attrs)).toEqual(["PAR5023"]);
    const missing = basePlan();
    delete (missing.ops[0].attrs as Record<string, unknown>).bias;
    expect(codes(missing)).toEqual(["PAR5023"]);
  });

  it("PAR5024 / PAR5025: no programs, a device without one, or programs that compute no loss (issue 20, row 11)", () => {
    const none = basePlan();
    none.programs = [];
    expect(codes(none)).toEqual(["PAR5024", "PAR5024", "PAR5025"]);
    const empty = basePlan();
    for (const p of empty.programs) p.instructions = [];
    expect(codes(empty)).toEqual(["PAR5025"]);
    const noDevices = { ...basePlan(), devices: [], programs: [] };
    expect(codes(noDevices)).toEqual(["PAR5024", "PAR5025"]);
  });

  it("PAR5026: an instruction whose buffers are not what its task needs (found by the fuzzer: these ran and threw inside tfjs)", () => {
    const fwd = (p: Plan) => p.programs[0].instructions.find((i) => i.kind === "forward" && i.op === "fc1") as Extract<Plan["programs"][0]["instructions"][0], { kind: "forward" }>;
    // A param buffer shrunk to an empty region (its region still lies inside the tensor).
    const empty = basePlan();
    const weight = empty.programs[0].buffers.find((b) => b.id === fwd(empty).params[0])!;
    weight.region = { lo: weight.region.lo, hi: [weight.region.lo[0], ...weight.region.hi.slice(1)] };
    const d = new Diagnostics();
    validatePlan(empty, "plan.json", d);
    expect(d.items.map((x) => x.code)).toContain("PAR5026");
    expect(d.items.find((x) => x.code === "PAR5026")!.message).toMatch(/forward on device 0: params\[0\] is buffer \S+ holding \[.*\], but the task needs \[.*\]/);
    // A kernel naming fewer params than its op has; an operand of another tensor.
    const fewer = basePlan();
    fwd(fewer).params.pop();
    expect(codes(fewer)).toContain("PAR5026");
    const swapped = basePlan();
    fwd(swapped).params.reverse();
    expect(codes(swapped)).toContain("PAR5026");
    // A box outside the op's space; a send of a region its buffer does not hold.
    const box = basePlan();
    fwd(box).box.hi[0] = 1000;
    expect(codes(box)).toContain("PAR5026");
  });

  it("PAR5021: compiling a model without a loss; PAR5022: simulating one warns (issue 20, row 8)", () => {
    const g = new Graph("noloss");
    g.addInput("x", tt([8, 6]));
    addOp(g, "fc", "linear", ["x"], { out: 3 });
    const ctx = createContext();
    let thrown: unknown;
    try {
      compile(g, builtinMesh("local")!, baseline("dp", g, builtinMesh("local")!), ctx);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ParError);
    expect((thrown as ParError).diagnostics.map((d) => d.code)).toEqual(["PAR5021"]);
    expect((thrown as ParError).diagnostics[0].hint).toContain("softmax_cross_entropy");
    const sim = createContext();
    simulate(g, builtinMesh("local")!, baseline("dp", g, builtinMesh("local")!), sim);
    simulate(g, builtinMesh("local")!, baseline("dp", g, builtinMesh("local")!), sim);
    expect(sim.diagnostics.items.map((d) => `${d.severity} ${d.code}`)).toEqual(["warning PAR5022"]);
  });

  it("PAR5014: an exported op signature (src/plan/signatures.ts) must be the registry's", () => {
    const signed = (): Plan => JSON.parse(JSON.stringify(withSignatures(basePlan())));
    expect(codes(signed())).toEqual([]);
    const stale = signed();
    stale.ops[0].signature!.space[0].size += 1;
    expect(codes(stale)).toEqual(["PAR5014"]);
    const badMap = signed();
    badMap.ops[0].signature!.inputMaps[0][0] = { kind: "full" };
    expect(codes(badMap)).toEqual(["PAR5014"]);
    const malformed = signed() as unknown as { ops: { signature: { space: unknown } }[] };
    malformed.ops[0].signature.space = "everything";
    expect(codes(malformed)).toEqual(["PAR5001"]);
  });

  /** mlp() with 2 replicas under ZeRO stage `zero` on 4 devices (fc1, act on device 0; fc2, loss on 1; replica 1 on 2, 3). */
  function zeroPlan(zero: 1 | 2 | 3): Plan {
    const g = mlp();
    const ops: Record<string, { degrees: number[]; devices: number[] }> = {};
    for (const o of g.topoOrder()) ops[o.name] = { degrees: o.sig.space.map(() => 1), devices: [o.name === "fc1" || o.name === "act" ? 0 : 1] };
    return JSON.parse(JSON.stringify(lower(g, { name: "z", model: "mlp", mesh: "cpu4", ops, replicas: { count: 2, offset: 2 }, zero }, meshOf(4), { seed: 1, optimizer: SGD })));
  }

  it("v2 plans (ZeRO slices, reduce-scatter, all-gather, release) validate; PAR5015: a slice outside its region", () => {
    for (const z of [1, 2, 3] as const) {
      const p = zeroPlan(z);
      expect(p.version).toBe(2);
      expect(codes(p)).toEqual([]);
    }
    const p = zeroPlan(2);
    const sliced = p.programs[0].buffers.find((b) => b.slice)!;
    sliced.slice = [0, 1_000_000];
    expect(codes(p)).toContain("PAR5015");
    // v2 instructions in a version-1 plan are schema errors.
    expect(codes({ ...zeroPlan(3), version: 1 })).toContain("PAR5001");
  });

  it("PAR5016: a reduce-scatter into a slice that is not its member's; PAR5017: a read after release", () => {
    const p = zeroPlan(2);
    const prog = p.programs[0];
    const rs = prog.instructions.find((i) => i.kind === "reducescatter") as Extract<Plan["programs"][0]["instructions"][0], { kind: "reducescatter" }>;
    rs.group = [...rs.group].reverse();
    const d = new Diagnostics();
    validatePlan(p, "plan.json", d);
    expect(d.items.map((x) => x.code)).toContain("PAR5016");
    const q = zeroPlan(3);
    const ins = q.programs[0].instructions;
    const fwd = ins.findIndex((i) => i.kind === "forward");
    const read = (ins[fwd] as Extract<Plan["programs"][0]["instructions"][0], { kind: "forward" }>).params[0];
    ins.splice(fwd, 0, { kind: "release", buf: read });
    expect(codes(q)).toContain("PAR5017");
  });

  it("PAR5018: micro-batches or replicas of a model whose batch statistics another op reads", () => {
    const g = new Graph("stats");
    g.addInput("x", tt([8, 4]));
    g.addInput("target", tt([4]));
    const h = addOp(g, "fc", "linear", ["x"], { out: 4 });
    const m = addOp(g, "mean", "reduce_mean", [h], { axes: [0] });
    addOp(g, "loss", "mse", [m, "target"]);
    const ops: Record<string, { degrees: number[]; devices: number[] }> = {};
    for (const o of g.topoOrder()) ops[o.name] = { degrees: o.sig.space.map(() => 1), devices: [0] };
    let thrown: unknown;
    try {
      lower(g, { name: "r", model: "stats", mesh: "cpu2", ops, replicas: { count: 2, offset: 1 } }, meshOf(2), { seed: 1, optimizer: SGD });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ParError);
    expect((thrown as ParError).diagnostics[0].code).toBe("PAR5018");
    expect((thrown as ParError).diagnostics[0].message).toMatch(/mean has no sample dim but reads/);
  });

  it("every codegen code has a test above or in the plan's other tests", () => {
    // The memory check (PAR5030) is tested in test/plan/memory.test.ts and test/cli/memory-check.test.ts.
    const here = join(import.meta.dirname);
    const files = [...readdirSync(here).filter((f) => f.endsWith(".test.ts")).map((f) => join(here, f)), join(here, "..", "cli", "memory-check.test.ts")];
    const src = files.map((f) => readFileSync(f, "utf8")).join("\n");
    for (const code of Object.keys(CODEGEN_CODES)) expect(src.includes(`"${code}"`) || src.includes(`${code}:`), code).toBe(true);
  });
});
