// Real data (`--data DIR`): one <input id>.npy per graph input, k global batches stacked
// along axis 0. Files holding exactly the synthetic batches give exactly the synthetic
// run's losses (each rank maps only its rows and region), int64 labels are read as i32,
// and files that disagree with the model are coded errors.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ParError } from "../../../src/core/diagnostics.js";
import type { Plan, PlanTensor } from "../../../src/plan/plan.js";
import { synthesize } from "../../../src/runtime/exec/data.js";
import { runPlanTorch } from "../../../src/engines/torch/run.js";
import { mixedStrategy, mlp, plans } from "../../runtime/graphs.js";
import { describeTorch, TORCH } from "./support.js";

type Descr = "<f4" | "<f8" | "<i4" | "<i8";

/** A .npy file (format 1.0) of `values` with NumPy dtype `descr` and `shape`. */
function npy(values: ArrayLike<number>, shape: number[], descr: Descr, fortran = false): Buffer {
  let header = `{'descr': '${descr}', 'fortran_order': ${fortran ? "True" : "False"}, 'shape': (${shape.join(", ")}${shape.length === 1 ? "," : ""}), }`;
  const total = 10 + header.length + 1;
  header += " ".repeat((64 - (total % 64)) % 64) + "\n";
  const pre = Buffer.alloc(10);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(pre);
  pre.writeUInt16LE(header.length, 8);
  const size = descr === "<f8" || descr === "<i8" ? 8 : 4;
  const body = Buffer.alloc(values.length * size);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (descr === "<f4") body.writeFloatLE(v, 4 * i);
    else if (descr === "<f8") body.writeDoubleLE(v, 8 * i);
    else if (descr === "<i4") body.writeInt32LE(v, 4 * i);
    else body.writeBigInt64LE(BigInt(v), 8 * i);
  }
  return Buffer.concat([pre, Buffer.from(header, "latin1"), body]);
}

/** The synthetic dataset's `batches` batches of a graph input, stacked along axis 0. */
function stacked(plan: Plan, t: PlanTensor, batches: number): number[] {
  const tensors = new Map(plan.tensors.map((x) => [x.id, x]));
  const teacher = t.feed && t.feed.kind !== "uniform" && t.feed.teacher ? tensors.get(t.feed.teacher) : undefined;
  const whole = { lo: t.shape.map(() => 0), hi: [...t.shape] };
  return Array.from({ length: batches }, (_, b) => Array.from(synthesize(t, teacher, plan.seed, b, whole))).flat();
}

async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ParError);
    return (e as ParError).diagnostics.map((d) => `${d.code} ${d.message}`).join("\n");
  }
  throw new Error("expected the run to fail");
}

describeTorch("--data: graph inputs from .npy files", () => {
  const plan = plans(mlp(8, 6, 5, 3), mixedStrategy(), 3).plan;
  const x = plan.tensors.find((t) => t.id === "x")!;
  const labels = plan.tensors.find((t) => t.id === "labels")!;
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "par-torch-data-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, files: Record<string, Buffer>): string => {
    const d = join(dir, name);
    rmSync(d, { recursive: true, force: true });
    mkdirSync(d, { recursive: true });
    for (const [f, b] of Object.entries(files)) writeFileSync(join(d, f), b);
    return d;
  };

  it("files holding the synthetic batches give the synthetic run's losses exactly", async () => {
    const d = write("same", {
      "x.npy": npy(stacked(plan, x, 2), [2 * x.shape[0], ...x.shape.slice(1)], "<f4"),
      "labels.npy": npy(stacked(plan, labels, 2), [2 * labels.shape[0]], "<i8"),
    });
    const synthetic = await runPlanTorch(plan, { steps: 5, python: TORCH! });
    const fromFiles = await runPlanTorch(plan, { steps: 5, python: TORCH!, data: d });
    expect(fromFiles.losses).toEqual(synthetic.losses);
  }, 120_000);

  it("k batches are cycled by step: one batch repeated gives a different run than two", async () => {
    const one = write("one", {
      "x.npy": npy(stacked(plan, x, 1), x.shape, "<f4"),
      "labels.npy": npy(stacked(plan, labels, 1), labels.shape, "<i4"),
    });
    const synthetic = await runPlanTorch(plan, { steps: 2, python: TORCH! });
    const r = await runPlanTorch(plan, { steps: 2, python: TORCH!, data: one });
    expect(r.losses[0]).toBe(synthetic.losses[0]);
    expect(r.losses[1]).not.toBe(synthetic.losses[1]);
  }, 120_000);

  it("files that disagree with the model are PAR8009/PAR8010 naming the file", async () => {
    const good = { "labels.npy": npy(stacked(plan, labels, 1), labels.shape, "<i4") };
    const xs = stacked(plan, x, 1);
    const cases: [string, Record<string, Buffer>, RegExp][] = [
      ["missing", { ...good }, /PAR8009 .*x\.npy does not exist/],
      ["rank", { ...good, "x.npy": npy(xs, [x.shape[0] * x.shape[1]], "<f4") }, /PAR8010 .*x\.npy: shape \[48\] does not fit input x \[8, 6\]/],
      ["rows", { ...good, "x.npy": npy(xs.slice(0, 6 * 6), [6, 6], "<f4") }, /PAR8010 .*k·8/],
      ["dtype", { ...good, "x.npy": npy(xs, x.shape, "<f8") }, /PAR8010 .*dtype <f8 does not fit input x \(f32\); expected float32/],
      ["fortran", { ...good, "x.npy": npy(xs, x.shape, "<f4", true) }, /PAR8010 .*Fortran order/],
      ["labels", { "x.npy": npy(xs, x.shape, "<f4"), "labels.npy": npy(stacked(plan, labels, 1), labels.shape, "<f4") }, /PAR8010 .*labels\.npy: dtype <f4 .*int32 or int64/],
    ];
    for (const [name, files, want] of cases) expect(await failure(runPlanTorch(plan, { steps: 1, python: TORCH!, data: write(name, files) }))).toMatch(want);
  }, 120_000);
});
