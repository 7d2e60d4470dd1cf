// Many plans on one set of ranks: `python3 -m par_torch serve --nproc N` starts N ranks
// once (interpreter, torch, process group: about a second each) and runs the plans it is
// sent one after another; a plan with fewer devices leaves the other ranks idle. Tests
// and benchmarks that run dozens of plans use it instead of one launch per plan.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parError, type ParError } from "../../core/diagnostics.js";
import type { Plan } from "../../plan/plan.js";
import { readDump } from "./dump.js";
import { exitError, recordError, startEngine, type EngineProcess, type EngineRecord } from "./process.js";
import { findTorchPython, type TorchPython } from "./python.js";
import { ResultBuilder } from "./result.js";
import { signedPlan, type TorchDevice, type TorchRunOutput } from "./run.js";

export interface TorchServerOptions {
  device?: TorchDevice;
  timeoutS?: number;
  orderedP2p?: boolean;
  threads?: number;
  python?: TorchPython;
  env?: NodeJS.ProcessEnv;
}

export interface TorchJobOptions {
  steps: number;
  dumpWeights?: boolean;
  data?: string;
  times?: boolean;
  onStep?: (step: number, loss: number, ms: number) => void;
}

interface PendingJob {
  plan: Plan;
  options: TorchJobOptions;
  builder: ResultBuilder;
  dumpDir: string;
  resolve: (r: TorchRunOutput) => void;
  reject: (e: unknown) => void;
}

export class TorchServer {
  private readonly jobs = new Map<number, PendingJob>();
  private next = 0;
  private failure: ParError | undefined;
  private closed = false;
  private readonly started: Promise<EngineRecord>;
  private startInfo: EngineRecord | undefined;

  private constructor(
    readonly nproc: number,
    private readonly dir: string,
    private readonly proc: EngineProcess,
    started: Promise<EngineRecord>,
  ) {
    this.started = started;
  }

  static async start(nproc: number, options: TorchServerOptions = {}): Promise<TorchServer> {
    const python = options.python ?? findTorchPython(options.env);
    const dir = mkdtempSync(join(tmpdir(), "par-torch-serve-"));
    const args = ["serve", "--nproc", String(nproc), "--device", options.device ?? "cpu", "--timeout", String(options.timeoutS ?? 60)];
    if (options.orderedP2p) args.push("--ordered-p2p");
    if (options.threads !== undefined) args.push("--threads", String(options.threads));
    let server: TorchServer | undefined;
    let onStart: (r: EngineRecord) => void = () => {};
    let onFail: (e: unknown) => void = () => {};
    const started = new Promise<EngineRecord>((res, rej) => {
      onStart = res;
      onFail = rej;
    });
    const proc = startEngine(python.python, args, (rec) => {
      if (rec.event === "start") onStart(rec);
      else server?.record(rec);
      if (rec.event === "error" && rec.job === undefined) onFail(recordError(rec));
    }, options.env);
    server = new TorchServer(nproc, dir, proc, started);
    void proc.exited.then((exit) => server!.exited(exit, onFail));
    server.startInfo = await started;
    return server;
  }

  /** What the ranks run on ("torch 1.13.0, gloo on cpu, ..."). */
  get info(): EngineRecord | undefined {
    return this.startInfo;
  }

  private record(rec: EngineRecord): void {
    const job = typeof rec.job === "number" ? this.jobs.get(rec.job) : undefined;
    if (rec.event === "error") {
      const err = recordError(rec);
      if (job) {
        this.jobs.delete(rec.job as number);
        job.reject(err);
      } else {
        this.fail(err);
      }
      return;
    }
    if (!job) return;
    if (rec.event === "step") {
      job.builder.step(rec);
      job.options.onStep?.(rec.step as number, rec.loss as number, rec.ms as number);
    }
    else if (rec.event === "done") {
      this.jobs.delete(rec.job as number);
      try {
        const out: TorchRunOutput = job.builder.result();
        if (out.losses.length !== job.options.steps) throw parError("PAR8012", `the torch engine reported ${out.losses.length} of ${job.options.steps} steps`);
        if (job.options.dumpWeights) out.dump = readDump(job.plan, job.dumpDir);
        job.resolve(out);
      } catch (e) {
        job.reject(e);
      }
    }
  }

  private fail(err: ParError): void {
    this.failure ??= err;
    for (const [id, job] of this.jobs) {
      this.jobs.delete(id);
      job.reject(err);
    }
  }

  private exited(exit: { status: number | null; signal: NodeJS.Signals | null; stderr: string[] }, onFail: (e: unknown) => void): void {
    const err = this.failure ?? (this.closed && exit.status === 0 ? undefined : exitError(exit, "torch server"));
    if (err) {
      onFail(err);
      this.fail(err);
    }
    this.closed = true;
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Runs one plan (jobs run one after another, in the order they were submitted). */
  run(plan: Plan, options: TorchJobOptions): Promise<TorchRunOutput> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(parError("PAR8012", "the torch server is closed"));
    if (plan.devices.length > this.nproc) return Promise.reject(parError("PAR8005", `the plan has ${plan.devices.length} devices, the server ${this.nproc} ranks`));
    const id = this.next++;
    const planPath = join(this.dir, `plan${id}.json`);
    writeFileSync(planPath, JSON.stringify(signedPlan(plan)));
    const dumpDir = join(this.dir, `dump${id}`);
    return new Promise<TorchRunOutput>((resolve, reject) => {
      const builder = new ResultBuilder();
      if (this.startInfo) builder.start(this.startInfo);
      this.jobs.set(id, { plan, options, builder, dumpDir, resolve, reject });
      const req = { plan: planPath, steps: options.steps, ...(options.dumpWeights ? { dump: dumpDir } : {}), ...(options.data ? { data: options.data } : {}), ...(options.times ? { times: true } : {}) };
      this.proc.child.stdin!.write(JSON.stringify(req) + "\n");
    });
  }

  /** Lets the running jobs finish, then stops the ranks. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.proc.child.stdin!.end();
    await this.proc.exited;
  }

  /** The engine's process id (tests kill it). */
  get pid(): number | undefined {
    return this.proc.child.pid;
  }

  /** Resolves once the ranks are up. */
  ready(): Promise<EngineRecord> {
    return this.started;
  }
}
