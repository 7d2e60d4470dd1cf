// The measured timeline of a `par run --trace` file (src/cli/commands/run.ts
// comparisonTrace): the Chrome trace's "measured" process has one track per device, a
// "step N" event per step and one event per instruction (category = the instruction's kind,
// args.op and args.step). The report draws one step: the last one every device finished
// (the first steps include warm-up, and the trace's predicted process starts there too).

import { parError, type Diagnostics } from "../core/diagnostics.js";
import { INPUT_LIMITS, readTextFile } from "../core/read-text.js";

/** Instruction kinds that move data between devices; every other kind computes (or copies locally). */
const COMM_INSTRUCTIONS = new Set(["send", "recv", "allreduce"]);

/** One measured instruction: [start µs from the step's start, duration µs, kind index (MeasuredTimeline.kinds), op index (−1 none), 0 compute / 1 communication]. */
export type MeasuredRow = [number, number, number, number, number];

export interface MeasuredDevice {
  device: number;
  /** Seconds from the step's earliest start (over devices) to this device's end of the step. */
  span: number;
  compute: number;
  comm: number;
  idle: number;
  tasks: MeasuredRow[];
}

export interface MeasuredTimeline {
  /** The trace's file, as the user wrote it. */
  file: string;
  /** "measured (tensorflow)", as the trace names its process. */
  source: string;
  step: number;
  /** Seconds: the step's earliest start to its latest end. */
  stepTime: number;
  kinds: string[];
  devices: MeasuredDevice[];
  /** What the trace says it ran (its otherData): model, strategy, mesh, when present. */
  ran: { model?: string; strategy?: string; mesh?: string };
}

interface RawEvent {
  name?: unknown;
  ph?: unknown;
  pid?: unknown;
  tid?: unknown;
  ts?: unknown;
  dur?: unknown;
  cat?: unknown;
  args?: Record<string, unknown>;
}

const num = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

function fail(code: string, message: string, hint: string, file: string): never {
  throw parError(code, message, { hint, pos: { file, line: 1, column: 1 } });
}

/** Reads the measured timeline of trace `full` (shown as `shown`); coded ParErrors for files that are not one. */
export function readMeasuredTrace(full: string, shown: string, opIndex: ReadonlyMap<string, number>): MeasuredTimeline {
  const text = readTextFile(full, shown, INPUT_LIMITS.plan);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    fail("PAR4050", `${shown} is not JSON: ${(e as Error).message}`, "give the trace `par run --trace OUT.json` wrote", shown);
  }
  return measuredFromTrace(json, shown, opIndex);
}

/** The measured timeline of a parsed trace `json` (from file `shown`). */
export function measuredFromTrace(json: unknown, shown: string, opIndex: ReadonlyMap<string, number>): MeasuredTimeline {
  const events = (json as { traceEvents?: unknown } | null)?.traceEvents;
  if (typeof json !== "object" || json === null || !Array.isArray(events)) {
    fail("PAR4050", `${shown} is not a Chrome trace: it has no \`traceEvents\` array`, "give the trace `par run --trace OUT.json` wrote", shown);
  }
  const list = events as RawEvent[];
  const measuredPids = new Map<number, string>();
  for (const e of list) {
    const name = e?.args?.name;
    if (e?.ph === "M" && e.name === "process_name" && num(e.pid) && typeof name === "string" && name.startsWith("measured")) measuredPids.set(e.pid, name);
  }
  if (measuredPids.size === 0) {
    fail("PAR4051", `${shown} holds no measured timeline (no process named "measured …")`, "`par run FILE --trace OUT.json` measures one; a `par simulate --trace` file is a prediction only", shown);
  }
  const pid = Math.min(...measuredPids.keys());
  // Step events per device, then the last step every device has.
  const steps = new Map<number, Map<number, { start: number; end: number }>>();
  for (const e of list) {
    if (e?.ph !== "X" || e.pid !== pid || e.cat !== "step" || !num(e.tid) || !num(e.ts) || !num(e.dur) || !num(e.args?.step)) continue;
    let m = steps.get(e.tid);
    if (!m) steps.set(e.tid, (m = new Map()));
    m.set(e.args.step, { start: e.ts, end: e.ts + e.dur });
  }
  if (steps.size === 0) {
    fail("PAR4050", `${shown}: the measured process has no step events`, "give the trace `par run --trace OUT.json` wrote", shown);
  }
  const deviceIds = [...steps.keys()].sort((a, b) => a - b);
  const common = [...steps.get(deviceIds[0])!.keys()].filter((s) => deviceIds.every((d) => steps.get(d)!.has(s)));
  if (common.length === 0) {
    fail("PAR4050", `${shown}: no step was measured on every device`, "give the trace of a run that finished", shown);
  }
  const step = Math.max(...common);
  const origin = Math.min(...deviceIds.map((d) => steps.get(d)!.get(step)!.start));
  const last = Math.max(...deviceIds.map((d) => steps.get(d)!.get(step)!.end));
  const kindIndex = new Map<string, number>();
  const rows = new Map<number, MeasuredRow[]>(deviceIds.map((d) => [d, []]));
  const kindsSeen = new Set<string>();
  for (const e of list) {
    if (e?.ph === "X" && e.pid === pid && typeof e.cat === "string" && e.cat !== "step" && e.args?.step === step) kindsSeen.add(e.cat);
  }
  const kinds = [...kindsSeen].sort();
  kinds.forEach((k, i) => kindIndex.set(k, i));
  for (const e of list) {
    if (e?.ph !== "X" || e.pid !== pid || typeof e.cat !== "string" || e.cat === "step" || e.args?.step !== step || !num(e.tid) || !num(e.ts) || !num(e.dur)) continue;
    const row = rows.get(e.tid);
    if (!row) continue;
    const op = typeof e.args?.op === "string" ? (opIndex.get(e.args.op) ?? -1) : -1;
    row.push([round3(e.ts - origin), round3(e.dur), kindIndex.get(e.cat)!, op, COMM_INSTRUCTIONS.has(e.cat) ? 1 : 0]);
  }
  const devices: MeasuredDevice[] = deviceIds.map((d) => {
    const tasks = rows.get(d)!.sort((a, b) => a[0] - b[0] || a[2] - b[2]);
    let compute = 0;
    let comm = 0;
    for (const t of tasks) {
      if (t[4] === 1) comm += t[1];
      else compute += t[1];
    }
    const span = (steps.get(d)!.get(step)!.end - origin) / 1e6;
    return { device: d, span, compute: compute / 1e6, comm: comm / 1e6, idle: Math.max(0, span - (compute + comm) / 1e6), tasks };
  });
  const other = (json as { otherData?: Record<string, unknown> }).otherData ?? {};
  const ran: MeasuredTimeline["ran"] = {};
  for (const k of ["model", "strategy", "mesh"] as const) if (typeof other[k] === "string") ran[k] = other[k];
  return { file: shown, source: measuredPids.get(pid)!, step, stepTime: (last - origin) / 1e6, kinds, devices, ran };
}

const round3 = (v: number) => Math.round(v * 1e3) / 1e3;

/**
 * Checks the trace against what the report shows: devices the mesh lacks are an error
 * (PAR4052); another model, strategy or mesh than the trace's is a warning (PAR4053).
 */
export function checkMeasured(m: MeasuredTimeline, shows: { model: string; strategy?: string; mesh?: string; devices?: number }, diagnostics: Diagnostics): boolean {
  const pos = { file: m.file, line: 1, column: 1 };
  if (shows.devices !== undefined) {
    const extra = m.devices.filter((d) => d.device < 0 || d.device >= shows.devices!).map((d) => d.device);
    if (extra.length > 0) {
      diagnostics.error("PAR4052", `${m.file} was measured on device${extra.length === 1 ? "" : "s"} ${extra.join(", ")}, which the report's mesh${shows.mesh ? ` ${shows.mesh}` : ""} (${shows.devices} devices) does not have`, {
        pos,
        hint: m.ran.mesh ? `give --mesh ${m.ran.mesh} (the mesh the run used)` : "give --mesh with the mesh the run used",
      });
      return false;
    }
  }
  const differs = (["model", "strategy", "mesh"] as const).filter((k) => m.ran[k] !== undefined && shows[k] !== undefined && m.ran[k] !== shows[k]);
  if (differs.length > 0) {
    diagnostics.warning("PAR4053", `${m.file} measured ${differs.map((k) => `${k} ${m.ran[k]}`).join(", ")}; the report shows ${differs.map((k) => `${k} ${shows[k]}`).join(", ")}`, {
      pos,
      hint: "give the report the same model, --strategy and --mesh as the run, so that the two timelines are of one plan",
    });
  }
  return true;
}
