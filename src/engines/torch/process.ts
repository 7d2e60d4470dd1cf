// A par_torch process and its JSON-lines protocol: every line the engine writes on stdout
// is one record ({"event": "start" | "step" | "done" | "error", ...}); stderr is kept
// only as context for failures that produced no record.

import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { parError, type ParError } from "../../core/diagnostics.js";
import { TORCH_CODES } from "./codes.js";
import { pythonEnv } from "./python.js";

/** One record of the engine's output (python/par_torch/launcher.py). */
export interface EngineRecord {
  event: string;
  [key: string]: unknown;
}

export interface EngineExit {
  status: number | null;
  signal: NodeJS.Signals | null;
  /** The last lines of stderr (at most 40). */
  stderr: string[];
}

export interface EngineProcess {
  child: ChildProcess;
  exited: Promise<EngineExit>;
}

/** Starts `python -m par_torch ARGS`, calling `onRecord` for every JSON line of stdout. */
export function startEngine(python: string, args: string[], onRecord: (r: EngineRecord) => void, env: NodeJS.ProcessEnv = process.env): EngineProcess {
  const child = spawn(python, ["-m", "par_torch", ...args], { env: pythonEnv(env), stdio: ["pipe", "pipe", "pipe"] });
  const stderr: string[] = [];
  // Writing to an engine that died (a server's stdin) must not crash this process: the
  // death is reported through `exited`.
  child.stdin!.on("error", () => {});
  const lines = createInterface({ input: child.stdout! });
  lines.on("line", (line) => {
    if (!line.startsWith("{")) return;
    let rec: EngineRecord;
    try {
      rec = JSON.parse(line) as EngineRecord;
    } catch {
      return;
    }
    onRecord(rec);
  });
  createInterface({ input: child.stderr! }).on("line", (line) => {
    stderr.push(line);
    if (stderr.length > 40) stderr.shift();
  });
  const stdoutDone = new Promise<void>((res) => lines.on("close", () => res()));
  const exited = new Promise<EngineExit>((res) => {
    child.on("error", (e) => res({ status: -1, signal: null, stderr: [...stderr, e.message] }));
    child.on("close", (status, signal) => {
      void stdoutDone.then(() => res({ status, signal, stderr }));
    });
  });
  return { child, exited };
}

/** An engine error record as a ParError (unknown codes become PAR8012). */
export function recordError(rec: EngineRecord): ParError {
  const code = typeof rec.code === "string" && rec.code in TORCH_CODES ? rec.code : "PAR8012";
  const message = typeof rec.message === "string" ? rec.message : JSON.stringify(rec);
  const hint = typeof rec.hint === "string" ? rec.hint : undefined;
  return parError(code, message, { hint });
}

/**
 * A failure without an error record (the interpreter crashed, was killed, printed a
 * traceback): PAR8012 with the last meaningful stderr line, never the traceback itself.
 */
export function exitError(exit: EngineExit, what: string): ParError {
  const meaningful = exit.stderr.filter((l) => l.trim() !== "" && !l.startsWith(" ") && !l.startsWith("Traceback"));
  const last = meaningful[meaningful.length - 1];
  const how = exit.signal ? `was killed by ${exit.signal}` : `exited with status ${exit.status}`;
  return parError("PAR8012", `${what}: the torch engine ${how}${last ? `: ${last}` : " without a report"}`, {
    hint: "rerun with PAR_TORCH_DEBUG=1 to see the Python traceback",
  });
}
