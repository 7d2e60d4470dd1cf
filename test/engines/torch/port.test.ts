// The pure functions both engines start from, ported to python/par_torch bit for bit:
// FNV-1a and the counter hash (hash.ts), initial weights (init.ts), synthetic batches with
// their teacher-made labels and targets (data.ts) and dropout masks (ops/dropout.ts). Many
// random keys are drawn with a fixed seed (PAR_SEED overrides), all evaluated by one Python
// call, and every value must be the same float32 (or integer) in both languages.
import { spawnSync } from "node:child_process";
import fc from "fast-check";
import { expect, it } from "vitest";
import type { Region } from "../../../src/core/region.js";
import type { InitSpec } from "../../../src/ops/contract.js";
import type { PlanTensor } from "../../../src/plan/plan.js";
import { dropoutMask } from "../../../src/ops/dropout.js";
import { hashKey, strHash } from "../../../src/runtime/exec/hash.js";
import { initRegion } from "../../../src/runtime/exec/init.js";
import { synthesize } from "../../../src/runtime/exec/data.js";
import { pythonEnv } from "../../../src/engines/torch/python.js";
import { propertySeed } from "../../support/property.js";
import { describeTorch, TORCH } from "./support.js";

const seedArb = fc.oneof(fc.integer({ min: 0, max: 100 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 }), fc.integer({ min: 2 ** 32, max: 2 ** 40 }), fc.integer({ min: -(2 ** 40), max: -1 }));
const idArb = fc.oneof(fc.constantFrom("x", "labels", "fc1.weight", "layer0.attn.q_weight", "tök/ën", "😀"), fc.string({ minLength: 1, maxLength: 12 }));
const shapeArb = fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 0, maxLength: 4 });

function regionArb(shape: number[]): fc.Arbitrary<Region> {
  return fc.tuple(...shape.map((s) => fc.tuple(fc.integer({ min: 0, max: s - 1 }), fc.integer({ min: 1, max: s })))).map((bounds) => {
    const lo = bounds.map(([a, b]) => Math.min(a, b - 1));
    const hi = bounds.map(([a, b], i) => Math.max(b, lo[i] + 1));
    return { lo, hi };
  });
}

const specArb: fc.Arbitrary<InitSpec> = fc.oneof(
  fc.constant({ kind: "zeros" as const }),
  fc.constant({ kind: "ones" as const }),
  fc.double({ min: 1e-3, max: 3, noNaN: true }).map((bound) => ({ kind: "uniform" as const, bound })),
  fc.double({ min: 1e-3, max: 3, noNaN: true }).map((std) => ({ kind: "normal" as const, std })),
);

const initCaseArb = fc.record({ spec: specArb, seed: seedArb, param: idArb, shape: shapeArb }).chain((c) => regionArb(c.shape).map((region) => ({ ...c, region })));

interface DataCase {
  tensor: PlanTensor;
  teacher: PlanTensor | undefined;
  seed: number;
  step: number;
  region: Region;
}

const dataCaseArb: fc.Arbitrary<DataCase> = fc
  .record({
    batch: fc.integer({ min: 1, max: 4 }),
    rest: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
    // Rows up to 144 elements: both sides of TEACHER_TAPS (64), all taps or hashed ones.
    teacherRest: fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 2 }),
    kind: fc.constantFrom("uniform", "classes", "target", "default-int", "default-float"),
    withTeacher: fc.boolean(),
    classes: fc.integer({ min: 1, max: 7 }),
    seed: seedArb,
    step: fc.integer({ min: 0, max: 5 }),
    id: idArb,
  })
  .chain((c) => {
    const shape = [c.batch, ...c.rest];
    const teacher: PlanTensor = { id: `t-${c.id}`, shape: [c.batch, ...c.teacherRest], dtype: "f32", role: "input", feed: { kind: "uniform" } };
    const isInt = c.kind === "classes" || c.kind === "default-int";
    const tensor: PlanTensor = { id: c.id, shape, dtype: isInt ? "i32" : "f32", role: "input" };
    const teacherId = c.withTeacher ? teacher.id : null;
    if (c.kind === "uniform") tensor.feed = { kind: "uniform" };
    if (c.kind === "classes") tensor.feed = { kind: "classes", classes: c.classes, teacher: teacherId };
    if (c.kind === "target") tensor.feed = { kind: "target", teacher: teacherId };
    return regionArb(shape).map((region) => ({ tensor, teacher: c.withTeacher ? teacher : undefined, seed: c.seed, step: c.step, region }));
  });

const dropoutCaseArb = fc
  .record({ shape: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 3 }), p: fc.double({ min: 0.01, max: 0.95, noNaN: true }), seed: fc.integer({ min: -(2 ** 31), max: 2 ** 31 }) })
  .chain((c) => regionArb(c.shape).map((region) => ({ ...c, region })));

const RUNS = Number(process.env.PAR_RUNS_PORT ?? 150);

function same(what: string, ts: ArrayLike<number>, py: number[], c: unknown): void {
  const a = Array.from(ts);
  const diffs = a.flatMap((v, i) => (Object.is(v, py[i]) ? [] : [i]));
  if (a.length !== py.length || diffs.length > 0) {
    throw new Error(`${what} differs (seed ${propertySeed()}) at elements [${diffs.slice(0, 5).join(", ")}]: TS ${diffs.slice(0, 5).map((i) => a[i]).join(", ")} vs Python ${diffs.slice(0, 5).map((i) => py[i]).join(", ")}\ncase: ${JSON.stringify(c)}`);
  }
}

describeTorch("hash, init, data and dropout ports", () => {
  it(`agree bit for bit on ${RUNS} random keys of each kind`, () => {
    const seed = propertySeed();
    const strs = fc.sample(idArb, { seed, numRuns: RUNS });
    const keys = fc.sample(fc.array(seedArb, { minLength: 0, maxLength: 6 }), { seed: seed + 1, numRuns: RUNS });
    const inits = fc.sample(initCaseArb, { seed: seed + 2, numRuns: RUNS });
    const datas = fc.sample(dataCaseArb, { seed: seed + 3, numRuns: RUNS });
    const drops = fc.sample(dropoutCaseArb, { seed: seed + 4, numRuns: RUNS });
    const request = {
      strHash: strs,
      hashKey: keys,
      init: inits,
      data: datas.map((d) => ({ tensor: d.tensor, teacher: d.teacher ?? null, seed: d.seed, step: d.step, region: d.region })),
      dropout: drops,
    };
    const r = spawnSync(TORCH!.python, ["-m", "par_torch", "port-values"], { env: pythonEnv(), input: JSON.stringify(request), encoding: "utf8", maxBuffer: 1 << 28 });
    expect(r.status, r.stderr).toBe(0);
    const py = JSON.parse(r.stdout) as { strHash: number[]; hashKey: number[]; init: number[][]; data: number[][]; dropout: number[][] };
    strs.forEach((s, i) => same("strHash", [strHash(s)], [py.strHash[i]], s));
    keys.forEach((k, i) => same("hashKey", [hashKey(...k)], [py.hashKey[i]], k));
    inits.forEach((c, i) => same("initRegion", initRegion(c.spec, c.seed, c.param, c.shape, c.region), py.init[i], c));
    datas.forEach((c, i) => same("synthesize", synthesize(c.tensor, c.teacher, c.seed, c.step, c.region), py.data[i], c));
    drops.forEach((c, i) => same("dropoutMask", dropoutMask(c.shape, c.region, c.p, c.seed), py.dropout[i], c));
  }, 120_000);
});
