// Failures on the torch engine end every rank quickly and come back as one coded error:
// a rank killed mid-run (SIGKILL: no last words), an instruction that fails on one rank, a
// launcher stopped by SIGTERM, a plan the engine cannot run, and no torch at all. No
// process is ever left behind.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { ParError } from "../../../src/core/diagnostics.js";
import type { Plan } from "../../../src/plan/plan.js";
import { spawnSync } from "node:child_process";
import { findTorchPython, pythonEnv } from "../../../src/engines/torch/python.js";
import { runPlanTorch, signedPlan } from "../../../src/engines/torch/run.js";
import { lower, singleDeviceStrategy } from "../../../src/codegen/lower.js";
import { meshOf, mlp, plans, SGD } from "../../runtime/graphs.js";
import { describeTorch, TORCH } from "./support.js";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function codeOf(p: Promise<unknown>): Promise<{ code: string; message: string; hint?: string }> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ParError);
    const d = (e as ParError).diagnostics[0];
    return { code: d.code, message: d.message, ...(d.hint ? { hint: d.hint } : {}) };
  }
  throw new Error("expected the run to fail");
}

/** A data-parallel MLP on 3 devices, big enough that 10,000 steps take far longer than the test. */
function dpPlan(): Plan {
  const g = mlp(12, 16, 32, 4);
  const ops: Record<string, { degrees: number[]; devices: number[] }> = {};
  for (const o of g.topoOrder()) ops[o.name] = { degrees: o.sig.space.map((_, i) => (i === 0 ? 3 : 1)), devices: [0, 1, 2] };
  return plans(g, { name: "dp", model: "mlp", mesh: "cpu3", ops }, 3).plan;
}

async function stopMidRun(stop: (pids: number[], launcher: number) => void, timeoutS = 60): Promise<{ code: string; message: string; seconds: number; pids: number[]; launcher: number }> {
  let pids: number[] = [];
  let launcher = 0;
  let stoppedAt = 0;
  const run = runPlanTorch(dpPlan(), {
    steps: 10_000,
    timeoutS,
    python: TORCH!,
    onStart: (info) => {
      pids = info.pids;
      launcher = info.launcherPid ?? 0;
    },
    onStep: (step) => {
      if (step === 5) {
        stoppedAt = Date.now();
        stop(pids, launcher);
      }
    },
  });
  const e = await codeOf(run);
  return { ...e, seconds: (Date.now() - stoppedAt) / 1000, pids, launcher };
}

describeTorch("faults on the torch engine", () => {
  it("killing one rank ends every rank within 10 s with PAR8007", async () => {
    const r = await stopMidRun((pids) => process.kill(pids[1], "SIGKILL"));
    expect(r.code, r.message).toBe("PAR8007");
    expect(r.message).toMatch(/rank 1 .*killed by signal 9 \(SIGKILL\)/);
    expect(r.seconds).toBeLessThan(10);
    expect(r.pids).toHaveLength(3);
    expect([r.launcher, ...r.pids].filter(alive)).toEqual([]);
  }, 60_000);

  it("stopping the launcher (SIGTERM) ends every rank", async () => {
    const r = await stopMidRun((_pids, launcher) => process.kill(launcher, "SIGTERM"));
    expect(r.code, r.message).toBe("PAR8007");
    expect(r.message).toContain("SIGTERM");
    expect(r.seconds).toBeLessThan(10);
    expect([r.launcher, ...r.pids].filter(alive)).toEqual([]);
  }, 60_000);

  it("a rank that stops answering (SIGSTOP) makes its peers time out: PAR8008, every rank ended", async () => {
    const r = await stopMidRun((pids) => process.kill(pids[2], "SIGSTOP"), 2);
    expect(r.code, r.message).toBe("PAR8008");
    expect(r.message).toMatch(/^device [01], step \d+, instruction \d+ \(allreduce /);
    // The 2 s timeout, then SIGTERM (which a stopped rank ignores) and SIGKILL after a grace.
    expect(r.seconds).toBeLessThan(20);
    expect([r.launcher, ...r.pids].filter(alive)).toEqual([]);
  }, 60_000);

  it("an instruction that fails on one rank is PAR8006, naming device, step and instruction", async () => {
    const plan = dpPlan();
    // Device 2's first linear is handed its bias as the input: a matrix product of the wrong shapes.
    const prog = plan.programs.find((p) => p.device === 2)!;
    const fwd = prog.instructions.find((i) => i.kind === "forward")!;
    if (fwd.kind !== "forward") throw new Error("unreachable");
    fwd.inputs = [fwd.params[1]];
    const e = await codeOf(runPlanTorch(plan, { steps: 3, python: TORCH! }));
    expect(e.code).toBe("PAR8006");
    expect(e.message).toMatch(/^device 2, step 0, instruction \d+ \(forward fc1 task 2\): /);
    expect(e.message).not.toContain("Traceback");
  }, 60_000);

  it("bad input to the command line is a coded JSON error, never a traceback", () => {
    const dir = mkdtempSync(join(tmpdir(), "par-torch-cli-"));
    try {
      const planPath = join(dir, "plan.json");
      writeFileSync(planPath, JSON.stringify(signedPlan(dpPlan())));
      writeFileSync(join(dir, "unsigned.json"), JSON.stringify(dpPlan()));
      writeFileSync(join(dir, "notjson.json"), "{ nope");
      const cli = (...args: string[]) => {
        const r = spawnSync(TORCH!.python, ["-m", "par_torch", ...args, "--json"], { env: pythonEnv(), encoding: "utf8", timeout: 60_000 });
        expect(r.stderr).not.toContain("Traceback");
        const rec = JSON.parse(r.stdout.trim().split("\n").pop()!) as { code: string; message: string };
        return { status: r.status, code: rec.code, message: rec.message };
      };
      expect(cli("run", planPath, "--nproc", "2")).toMatchObject({ status: 1, code: "PAR8005" });
      expect(cli("run", join(dir, "notjson.json"))).toMatchObject({ status: 1, code: "PAR8016" });
      expect(cli("run", join(dir, "missing.json"))).toMatchObject({ status: 1, code: "PAR8016" });
      expect(cli("run", join(dir, "unsigned.json"))).toMatchObject({ status: 1, code: "PAR8004" });
      expect(cli("run", planPath, "--steps", "0")).toMatchObject({ status: 2, code: "PAR8015" });
      expect(cli("run", planPath, "--frobnicate")).toMatchObject({ status: 2, code: "PAR8015" });
      expect(cli("run", planPath, "--device", "cuda", "--steps", "1")).toMatchObject({ code: TORCH!.cuda ? expect.any(String) : "PAR8003" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describeTorch("every engine code is reachable", () => {
  it("PAR8017/PAR8018/PAR8019: bad weights, mismatched sizes, a malformed plan", async () => {
    const g = mlp(8, 6, 5, 3);
    const weights = new Map([["fc1.weight", new Float32Array(6 * 5).fill(0.25)]]);
    const given = JSON.parse(JSON.stringify(lower(g, singleDeviceStrategy(g), meshOf(1), { seed: 1, optimizer: SGD, weights }))) as Plan;
    // The given values are used: the first loss differs from random init's.
    const withValues = await runPlanTorch(given, { steps: 1, python: TORCH! });
    const random = await runPlanTorch(plans(g, singleDeviceStrategy(g), 1).single, { steps: 1, python: TORCH! });
    expect(withValues.losses[0]).not.toBe(random.losses[0]);
    const missing = { ...given, weights: {} };
    expect((await codeOf(runPlanTorch(missing, { steps: 1, python: TORCH! }))).code).toBe("PAR8017");
    const mismatched = dpPlan();
    const prog = mismatched.programs[0];
    const update = prog.instructions.find((i) => i.kind === "update" && i.param.startsWith("p:fc1.weight"));
    if (!update || update.kind !== "update") throw new Error("unreachable");
    update.grad = prog.buffers.find((b) => b.id.startsWith("pg:fc1.bias"))!.id;
    expect((await codeOf(runPlanTorch(mismatched, { steps: 1, python: TORCH! }))).code).toBe("PAR8018");
    const malformed = dpPlan();
    const zero = malformed.programs[1].instructions.find((i) => i.kind === "zero") as unknown as Record<string, unknown>;
    delete zero.buf;
    const e = await codeOf(runPlanTorch(malformed, { steps: 1, python: TORCH! }));
    expect(e.code).toBe("PAR8019");
    expect(e.message).toContain("KeyError");
  }, 120_000);

  it("PAR8011: a rank under torchrun/srun without MASTER_ADDR", () => {
    const dir = mkdtempSync(join(tmpdir(), "par-torch-env-"));
    try {
      const planPath = join(dir, "plan.json");
      writeFileSync(planPath, JSON.stringify(signedPlan(dpPlan())));
      const env: NodeJS.ProcessEnv = { ...pythonEnv(), RANK: "0", WORLD_SIZE: "3", LOCAL_RANK: "0" };
      delete env.MASTER_ADDR;
      delete env.MASTER_PORT;
      const r = spawnSync(TORCH!.python, ["-m", "par_torch", "run", planPath, "--json"], { env, encoding: "utf8", timeout: 60_000 });
      expect(r.status).toBe(1);
      expect(JSON.parse(r.stdout.trim().split("\n").pop()!).code).toBe("PAR8011");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

it("PAR8002 (torch older than 1.13) and PAR8012 (an engine that dies without a report)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "par-torch-fake-"));
  try {
    const old = join(dir, "python-old-torch");
    writeFileSync(old, `#!/bin/sh\necho '{"torch": "1.12.1", "python": "3.9.2", "supported": false}'\n`, { mode: 0o755 });
    let e: unknown;
    try {
      findTorchPython(process.env, [old]);
    } catch (err) {
      e = err;
    }
    expect(e).toBeInstanceOf(ParError);
    expect((e as ParError).diagnostics[0]).toMatchObject({ code: "PAR8002", message: expect.stringContaining("torch 1.12.1") });
    const dies = join(dir, "python-that-dies");
    writeFileSync(dies, "#!/bin/sh\necho 'Traceback (most recent call last):' >&2\necho '  File x' >&2\necho 'MemoryError' >&2\nexit 3\n", { mode: 0o755 });
    const fake = { python: dies, torch: "2.0", pythonVersion: "3", gloo: true, nccl: false, cuda: false, cudaDevices: 0 };
    const r = await codeOf(runPlanTorch(dpPlan(), { steps: 1, python: fake }));
    expect(r.code).toBe("PAR8012");
    expect(r.message).toContain("exited with status 3: MemoryError");
    expect(r.message).not.toContain("Traceback");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it("without a Python that can import torch: PAR8001 with the install hint, no traceback", () => {
  const dir = mkdtempSync(join(tmpdir(), "par-torch-nopython-"));
  try {
    // A real interpreter that cannot see torch: Python without its site-packages.
    const bare = join(dir, "python-without-torch");
    writeFileSync(bare, "#!/bin/sh\nexec python3 -S \"$@\"\n", { mode: 0o755 });
    let e: unknown;
    try {
      findTorchPython(process.env, [join(dir, "missing-python"), bare]);
    } catch (err) {
      e = err;
    }
    expect(e).toBeInstanceOf(ParError);
    const d = (e as ParError).diagnostics[0];
    expect(d.code).toBe("PAR8001");
    expect(d.message).toContain("missing-python: not found");
    expect(d.message).toContain("python-without-torch: cannot import torch");
    expect(d.hint).toContain("apt-get install python3-torch libopenblas0-pthread");
    const r = spawnSync(bare, ["-m", "par_torch", "info", "--json"], { env: pythonEnv(), encoding: "utf8" });
    expect(r.stderr).not.toContain("Traceback");
    expect(JSON.parse(r.stdout.trim()).code).toBe("PAR8001");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
