// Finding a Python that can import torch, and the par_torch package that runs plans on it.
// Candidates: $PAR_PYTHON alone when it is set; otherwise /usr/bin/python3 (Debian's
// python3-torch installs there), then python3 on PATH. The first that can import torch is
// used; none → PAR8001 with the install hint, never a Python traceback.

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parError } from "../../core/diagnostics.js";
import { INSTALL_HINT } from "./codes.js";

export interface TorchPython {
  /** The interpreter to run. */
  python: string;
  /** torch.__version__ */
  torch: string;
  /** The interpreter's version. */
  pythonVersion: string;
  gloo: boolean;
  nccl: boolean;
  cuda: boolean;
  cudaDevices: number;
}

/** The directory holding the par_torch package (python/ at the repository root). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, "python", "par_torch", "__init__.py"))) return join(dir, "python");
    dir = resolve(dir, "..");
  }
  throw parError("PAR8001", "the par_torch package (python/par_torch) is not next to this par installation", { hint: "reinstall par from its repository" });
}

/** Environment for a Python process that imports par_torch. */
export function pythonEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const root = packageRoot();
  return { ...base, PYTHONPATH: base.PYTHONPATH ? `${root}:${base.PYTHONPATH}` : root, PYTHONUNBUFFERED: "1", PYTHONDONTWRITEBYTECODE: "1" };
}

/** $PAR_PYTHON alone when set (a pinned interpreter is not silently replaced), else /usr/bin/python3, python3. */
export function pythonCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.PAR_PYTHON) return [env.PAR_PYTHON];
  return ["/usr/bin/python3", "python3"];
}

function probe(python: string, env: NodeJS.ProcessEnv): TorchPython | string {
  const r = spawnSync(python, ["-m", "par_torch", "info", "--json"], { env: pythonEnv(env), encoding: "utf8", timeout: 120_000 });
  if (r.error) return `${python}: ${(r.error as NodeJS.ErrnoException).code === "ENOENT" ? "not found" : r.error.message}`;
  const line = r.stdout.split("\n").find((l) => l.startsWith("{"));
  if (r.status !== 0 || !line) return `${python}: cannot import torch`;
  let info: Record<string, unknown>;
  try {
    info = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return `${python}: unexpected output`;
  }
  if (typeof info.torch !== "string") return `${python}: cannot import torch`;
  if (info.supported !== true) return `old:${python}:${info.torch}`;
  return {
    python,
    torch: info.torch,
    pythonVersion: String(info.python ?? ""),
    gloo: info.gloo === true,
    nccl: info.nccl === true,
    cuda: info.cuda === true,
    cudaDevices: Number(info.cudaDevices ?? 0),
  };
}

const cache = new Map<string, TorchPython>();

/** The first candidate that can import torch ≥ 1.13 (cached per candidate list). */
export function findTorchPython(env: NodeJS.ProcessEnv = process.env, candidates = pythonCandidates(env)): TorchPython {
  const key = candidates.join("\0");
  const hit = cache.get(key);
  if (hit) return hit;
  const tried: string[] = [];
  let old: string | undefined;
  for (const c of candidates) {
    const r = probe(c, env);
    if (typeof r !== "string") {
      cache.set(key, r);
      return r;
    }
    if (r.startsWith("old:")) old = r;
    tried.push(r);
  }
  if (old !== undefined) {
    const [, python, version] = old.split(":");
    throw parError("PAR8002", `${python} has torch ${version}; the torch engine needs torch ≥ 1.13`, { hint: INSTALL_HINT });
  }
  throw parError("PAR8001", `no Python can import torch (tried ${tried.join("; ")})`, { hint: INSTALL_HINT });
}
