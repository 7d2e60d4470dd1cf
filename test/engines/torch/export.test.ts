// An exported job runs anywhere torch does: the directory holds the plan, a copy of the
// engine and the scripts. Here its run-torchrun.sh starts it with torchrun (c10d
// rendezvous on localhost; this Debian torch 1.13 torchrun needs the script's
// `--redirects 2 --tee 2`) and rank 0's losses equal the engine's own launcher's.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { ParError } from "../../../src/core/diagnostics.js";
import { exportTorchJob } from "../../../src/engines/torch/export.js";
import { runPlanTorch } from "../../../src/engines/torch/run.js";
import { mixedStrategy, mlp, plans } from "../../runtime/graphs.js";
import { describeTorch, TORCH } from "./support.js";

export async function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

describeTorch("exported torch jobs", () => {
  const dir = mkdtempSync(join(tmpdir(), "par-torch-export-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const plan = plans(mlp(8, 6, 5, 3), mixedStrategy(), 3).plan;

  it("run under torchrun (the exported run-torchrun.sh) with the launcher's losses", async () => {
    const job = join(dir, "job");
    const out = exportTorchJob(plan, job, { steps: 4 });
    expect(out.files).toEqual(expect.arrayContaining(["plan.json", "train.py", "run-torchrun.sh", "run-slurm.sh", "README.md", "par_torch/__main__.py", "par_torch/ops/attention.py"]));
    expect(out.files.some((f) => f.includes("__pycache__"))).toBe(false);
    const torchrun = spawnSync("sh", ["-c", "command -v torchrun"], { encoding: "utf8" }).stdout.trim();
    expect(torchrun, "torchrun is installed with torch").not.toBe("");
    const port = await freePort();
    // A clean environment: nothing of par on PYTHONPATH, the export carries its engine.
    const env = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp" };
    const r = spawnSync(join(job, "run-torchrun.sh"), [`127.0.0.1:${port}`, "0", "--json", "--timeout", "60"], { env, encoding: "utf8", timeout: 180_000 });
    const records = r.stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as { event: string; loss?: number; code?: string; message?: string });
    expect(records.filter((x) => x.event === "error"), r.stderr.slice(-2000)).toEqual([]);
    expect(r.status).toBe(0);
    const losses = records.filter((x) => x.event === "step").map((x) => x.loss);
    const own = await runPlanTorch(plan, { steps: 4, python: TORCH! });
    expect(losses).toEqual(own.losses);
  }, 240_000);

  it("runs under SLURM's environment (srun: SLURM_PROCID, SLURM_NTASKS, MASTER_ADDR/PORT) with the same losses", async () => {
    const job = join(dir, "slurm");
    exportTorchJob(plan, job, { steps: 3 });
    const port = await freePort();
    const env = (rank: number) => ({
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      SLURM_PROCID: String(rank),
      SLURM_NTASKS: "3",
      SLURM_LOCALID: String(rank),
      SLURM_NTASKS_PER_NODE: "3",
      MASTER_ADDR: "127.0.0.1",
      MASTER_PORT: String(port),
    });
    // srun starts one task per rank; here three processes stand for them.
    const tasks = [0, 1, 2].map(
      (rank) =>
        new Promise<{ status: number | null; stdout: string; stderr: string }>((res) => {
          const child = spawn(TORCH!.python, [join(job, "train.py"), "--json", "--steps", "3"], { env: env(rank) });
          let stdout = "";
          let stderr = "";
          child.stdout.on("data", (d) => (stdout += d));
          child.stderr.on("data", (d) => (stderr += d));
          child.on("close", (status) => res({ status, stdout, stderr }));
        }),
    );
    const results = await Promise.all(tasks);
    for (const r of results) expect(r.status, r.stderr.slice(-1500)).toBe(0);
    const losses = results[0].stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as { event: string; loss: number }).filter((x) => x.event === "step").map((x) => x.loss);
    const own = await runPlanTorch(plan, { steps: 3, python: TORCH! });
    expect(losses).toEqual(own.losses);
    // Only rank 0 reports.
    expect(results[1].stdout.trim()).toBe("");
  }, 240_000);

  it("refuses a non-empty directory (PAR8014) and an uneven node split", () => {
    const used = join(dir, "used");
    exportTorchJob(plan, used);
    expect(existsSync(join(used, "README.md"))).toBe(true);
    const codes = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(ParError);
        return (e as ParError).diagnostics[0].code;
      }
      return "none";
    };
    expect(codes(() => exportTorchJob(plan, used))).toBe("PAR8014");
    expect(codes(() => exportTorchJob(plan, join(dir, "uneven"), { nodes: 2 }))).toBe("PAR8014");
    const file = join(dir, "a-file");
    writeFileSync(file, "x");
    expect(codes(() => exportTorchJob(plan, join(file, "sub")))).toBe("PAR8014");
  });
});
