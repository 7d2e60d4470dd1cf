// Reading, validating and writing plan files. Validation is the schema (shape of the
// document) plus the semantic checks the schema cannot express: every buffer an
// instruction names exists on that device, every send has exactly one matching recv,
// all-reduce groups agree, ops are known to the registry, and the programs run to
// completion; each op's tensors are what its registry entry infers from its inputs, every
// device has a program and the programs compute the loss (src/plan/check-ops.ts). Each
// problem is a coded diagnostic that names its JSON path.

import { ParError, type Diagnostics, type SourcePos } from "../core/diagnostics.js";
import { writeFileAtomic } from "../core/files.js";
import { INPUT_LIMITS, readTextFile } from "../core/read-text.js";
import { regionEquals, regionShape, regionVolume, type Region } from "../core/region.js";
import { volume } from "../core/tensor.js";
import { jsonLocations, lineColumn, type JsonLocation } from "../core/json-positions.js";
import { getOp } from "../ops/registry.js";
import { checkInstructions, checkOpSignatures, checkProgramsRun } from "./check-ops.js";
import { checkSchedule } from "./schedule.js";
import { bufferAccesses, buffersNamed, isCollective, type CollectiveInstruction } from "./access.js";
import { PLAN_FORMAT, PLAN_VERSIONS, type Instruction, type Plan, type PlanBuffer, type PlanVersion } from "./plan.js";
import { sliceOf } from "./slices.js";
import { encodedLength } from "./weights.js";
import { inferPlanOp, signatureMismatch } from "./signatures.js";
import { planValidator } from "./schema.js";

class Locator {
  private readonly locs: Map<string, JsonLocation> | undefined;
  constructor(
    private readonly file: string,
    private readonly text: string | undefined,
  ) {
    this.locs = text === undefined ? undefined : jsonLocations(text);
  }

  pos(pointer: string): SourcePos {
    const loc = this.locs?.get(pointer);
    if (!loc || this.text === undefined) return { file: this.file, line: 1, column: 1 };
    const { line, column } = lineColumn(this.text, loc.value);
    return { file: this.file, line, column, offset: loc.value, length: 1 };
  }
}

function at(p: string): string {
  return p === "" ? "the top level" : `\`${p}\``;
}

function sameShape(a: Region, b: Region): boolean {
  const sa = regionShape(a);
  const sb = regionShape(b);
  return sa.length === sb.length && sa.every((x, i) => x === sb[i]);
}

/** Semantic checks of a schema-valid plan. */
function checkSemantics(plan: Plan, loc: Locator, diagnostics: Diagnostics): void {
  const errorsBefore = diagnostics.errors.length;
  const err = (code: string, pointer: string, message: string) => diagnostics.error(code, `${at(pointer)}: ${message}`, { pos: loc.pos(pointer) });
  const tensors = new Map<string, Plan["tensors"][number]>();
  plan.tensors.forEach((t, i) => {
    if (tensors.has(t.id)) err("PAR5008", `/tensors/${i}/id`, `tensor ${t.id} is declared twice`);
    tensors.set(t.id, t);
  });
  plan.tensors.forEach((t, i) => {
    if (t.feed && t.feed.kind !== "uniform" && t.feed.teacher !== null && !tensors.has(t.feed.teacher)) err("PAR5009", `/tensors/${i}/feed/teacher`, `unknown teacher tensor ${t.feed.teacher}`);
  });
  const devices = new Set<number>();
  plan.devices.forEach((d, i) => {
    if (devices.has(d.index)) err("PAR5008", `/devices/${i}/index`, `device ${d.index} is declared twice`);
    devices.add(d.index);
  });
  const ops = new Set<string>();
  plan.ops.forEach((o, i) => {
    if (ops.has(o.name)) err("PAR5008", `/ops/${i}/name`, `op ${o.name} is declared twice`);
    ops.add(o.name);
    if (!getOp(o.op)) err("PAR5006", `/ops/${i}/op`, `op kind \`${o.op}\` is not in the op registry`);
    else if (o.signature !== undefined) {
      // An exported signature (src/plan/signatures.ts) must be the registry's own.
      const r = inferPlanOp(plan, o, tensors);
      const why = "error" in r ? `the op cannot be typed: ${r.error}` : signatureMismatch(o.signature, r.sig);
      if (why !== undefined) err("PAR5014", `/ops/${i}/signature`, `the exported signature of op ${o.name} is not the registry's: ${why}`);
    }
    for (const [field, ids] of [["inputs", o.inputs], ["outputs", o.outputs], ["params", o.params]] as const) {
      ids.forEach((id, j) => {
        if (!tensors.has(id)) err("PAR5009", `/ops/${i}/${field}/${j}`, `unknown tensor ${id}`);
      });
    }
  });
  const referenced = new Set<string>();
  plan.params.forEach((p, i) => {
    const t = tensors.get(p.tensor);
    if (!t || t.role !== "param") err("PAR5007", `/params/${i}/tensor`, `${p.tensor} is not a param tensor of the plan`);
    if (p.init.kind === "values") {
      referenced.add(p.init.ref);
      const w = plan.weights?.[p.init.ref];
      if (!w) err("PAR5012", `/params/${i}/init/ref`, `param ${p.tensor} starts from given values \`${p.init.ref}\`, which \`weights\` does not hold`);
      else if (t && (w.data.length % 4 !== 0 || encodedLength(w.data) !== volume(t.shape))) {
        err("PAR5012", `/weights/${p.init.ref}/data`, `given values of ${p.tensor} hold ${w.data.length % 4 === 0 ? encodedLength(w.data) : "a fraction of"} f32s, the param [${t.shape.join(", ")}] has ${volume(t.shape)}`);
      }
      return;
    }
    const bound = p.init.kind === "uniform" ? p.init.bound : p.init.kind === "normal" ? p.init.std : 0;
    if (!Number.isFinite(bound)) err("PAR5007", `/params/${i}/init`, `init ${p.init.kind} needs a finite scale`);
  });
  for (const ref of Object.keys(plan.weights ?? {})) if (!referenced.has(ref)) err("PAR5012", `/weights/${ref}`, `given values \`${ref}\` are not the init of any param`);
  plan.losses.forEach((id, i) => {
    if (!tensors.has(id)) err("PAR5009", `/losses/${i}`, `unknown tensor ${id}`);
  });

  const programDevices = new Set<number>();
  const sends = new Map<string, { pointer: string; region: Region }>();
  const recvs = new Map<string, { pointer: string; region: Region }>();
  const collectives = new Map<string, { pointer: string; kind: CollectiveInstruction["kind"]; group: number[]; members: Set<number> }>();
  plan.programs.forEach((p, pi) => {
    const base = `/programs/${pi}`;
    if (programDevices.has(p.device)) err("PAR5008", `${base}/device`, `device ${p.device} has two programs`);
    programDevices.add(p.device);
    if (!devices.has(p.device)) err("PAR5009", `${base}/device`, `device ${p.device} is not in \`devices\``);
    const bufs = new Set<string>();
    const specs = new Map<string, PlanBuffer>();
    p.buffers.forEach((b, bi) => {
      specs.set(b.id, b);
      if (bufs.has(b.id)) err("PAR5008", `${base}/buffers/${bi}/id`, `buffer ${b.id} is declared twice on device ${p.device}`);
      bufs.add(b.id);
      const t = tensors.get(b.tensor);
      if (!t) err("PAR5009", `${base}/buffers/${bi}/tensor`, `unknown tensor ${b.tensor}`);
      else if (b.region.lo.length !== t.shape.length || b.region.hi.length !== t.shape.length || b.region.lo.some((l, d) => l > b.region.hi[d] || b.region.hi[d] > t.shape[d])) {
        err("PAR5009", `${base}/buffers/${bi}/region`, `region does not lie inside tensor ${b.tensor} of shape [${t.shape.join(", ")}]`);
      }
      if (b.slice && (b.slice[0] > b.slice[1] || b.slice[1] > regionVolume(b.region))) {
        err("PAR5015", `${base}/buffers/${bi}/slice`, `slice [${b.slice.join(", ")}) does not lie inside the ${regionVolume(b.region)} elements of its region`);
      }
    });
    const dead = readAfterRelease(p.instructions);
    if (dead) err("PAR5017", `${base}/instructions/${dead.index}`, `${p.instructions[dead.index].kind} reads buffer ${dead.buf} after \`release\` (at instruction ${dead.releasedAt}) without writing it first`);
    p.instructions.forEach((ins, ii) => {
      const ptr = `${base}/instructions/${ii}`;
      for (const id of buffersNamed(ins)) if (!bufs.has(id)) err("PAR5004", ptr, `${ins.kind} names buffer ${id}, which device ${p.device} does not declare`);
      if ((ins.kind === "forward" || ins.kind === "backward") && !ops.has(ins.op)) err("PAR5009", `${ptr}/op`, `unknown op ${ins.op}`);
      if (ins.kind === "send" || ins.kind === "recv") {
        const peer = ins.kind === "send" ? ins.to : ins.from;
        if (!devices.has(peer)) err("PAR5009", ptr, `${ins.kind} names device ${peer}, which is not in \`devices\``);
        const k = ins.kind === "send" ? `${p.device}>${ins.to}#${ins.tag}` : `${ins.from}>${p.device}#${ins.tag}`;
        const table = ins.kind === "send" ? sends : recvs;
        if (table.has(k)) err("PAR5005", `${ptr}/tag`, `a second ${ins.kind} with tag ${ins.tag} between the same devices`);
        else table.set(k, { pointer: ptr, region: ins.region });
      }
      if (isCollective(ins)) {
        const prev = collectives.get(ins.tag);
        const what = COLLECTIVE_NAMES[ins.kind];
        if (!ins.group.includes(p.device)) err("PAR5005", `${ptr}/group`, `device ${p.device} is not in its ${what} group`);
        for (const d of ins.group) if (!devices.has(d)) err("PAR5009", `${ptr}/group`, `device ${d} is not in \`devices\``);
        if (!prev) collectives.set(ins.tag, { pointer: ptr, kind: ins.kind, group: ins.group, members: new Set([p.device]) });
        else {
          if (prev.kind !== ins.kind) err("PAR5005", `${ptr}/kind`, `tag ${ins.tag} is a ${what} here and a ${COLLECTIVE_NAMES[prev.kind]} at ${prev.pointer}`);
          if (prev.group.join() !== ins.group.join()) err("PAR5005", `${ptr}/group`, `${what} ${ins.tag} has group [${ins.group.join(", ")}] here and [${prev.group.join(", ")}] at ${prev.pointer}`);
          if (prev.members.has(p.device)) err("PAR5005", `${ptr}/tag`, `device ${p.device} joins ${what} ${ins.tag} twice`);
          prev.members.add(p.device);
        }
      }
      checkOperands(ins, p.device, specs, ptr, err);
    });
  });
  for (const [k, s] of sends) {
    const r = recvs.get(k);
    if (!r) err("PAR5005", s.pointer, `send ${k} has no matching recv`);
    else if (!sameShape(s.region, r.region)) err("PAR5005", r.pointer, `recv ${k} expects a region of shape [${regionShape(r.region).join(", ")}], the send at ${s.pointer} sends [${regionShape(s.region).join(", ")}]`);
  }
  for (const [k, r] of recvs) if (!sends.has(k)) err("PAR5005", r.pointer, `recv ${k} has no matching send`);
  for (const [tag, a] of collectives) {
    const missing = a.group.filter((d) => !a.members.has(d));
    if (missing.length) err("PAR5005", a.pointer, `${COLLECTIVE_NAMES[a.kind]} ${tag}: device(s) ${missing.join(", ")} of the group never join`);
  }
  checkProgramsRun(plan, err);
  // Re-inference needs well-formed references: only when nothing above failed.
  if (diagnostics.errors.length === errorsBefore) checkInstructions(plan, checkOpSignatures(plan, err), err);
}

const COLLECTIVE_NAMES: Record<CollectiveInstruction["kind"], string> = { allreduce: "all-reduce", reducescatter: "reduce-scatter", allgather: "all-gather" };

type ErrorAt = (code: string, pointer: string, message: string) => void;

/** Whether `b` holds the elements `slice` (undefined: the whole region) of `region`. */
function holds(b: PlanBuffer, region: Region, slice: [number, number] | undefined): boolean {
  if (!regionEquals(b.region, region)) return false;
  const whole: [number, number] = [0, regionVolume(region)];
  const [s0, s1] = b.slice ?? whole;
  const [t0, t1] = slice ?? whole;
  return s0 === t0 && s1 === t1;
}

/**
 * Operands that must agree in what they hold: an update's weight, gradient and state
 * (one region of one param; each the weight's elements or the whole region), the slices
 * of a reduce-scatter or all-gather (member k's even slice of the whole buffer's region),
 * and slice buffers only where an instruction knows slices (update and these two).
 */
function checkOperands(ins: Instruction, device: number, specs: Map<string, PlanBuffer>, ptr: string, err: ErrorAt): void {
  const spec = (id: string) => specs.get(id);
  if (ins.kind === "update") {
    const p = spec(ins.param);
    if (!p) return;
    for (const [field, id] of [["grad", ins.grad], ["m", ins.m], ["v", ins.v]] as const) {
      const b = id === undefined ? undefined : spec(id);
      // Whole-region operands are PAR5026's (check-ops.ts); this is about slices.
      if (b && (p.slice || b.slice) && (b.tensor !== p.tensor || !(holds(b, p.region, p.slice) || holds(b, p.region, undefined)))) {
        err("PAR5016", `${ptr}/${field}`, `update of ${ins.param}: ${field} ${id} holds neither the weight's elements nor its whole region`);
      }
    }
    return;
  }
  if (ins.kind === "reducescatter" || ins.kind === "allgather") {
    const whole = spec(ins.buf);
    const part = spec(ins.kind === "reducescatter" ? ins.dst : ins.src);
    if (!whole || !part) return;
    const k = ins.group.indexOf(device);
    const want = sliceOf(regionVolume(whole.region), ins.group.length, k);
    if (whole.slice || part.tensor !== whole.tensor || !holds(part, whole.region, want)) {
      err("PAR5016", ptr, `${ins.kind} ${ins.tag}: device ${device} (member ${k} of ${ins.group.length}) must pair a whole-region buffer with its slice [${want.join(", ")}) of it`);
    }
    return;
  }
  for (const a of bufferAccesses(ins)) {
    if (spec(a.buf)?.slice) err("PAR5016", ptr, `${ins.kind} names the slice buffer ${a.buf}; only update, reducescatter and allgather take slices`);
  }
}

/** The first read of a released buffer before a write, over two steps (a program repeats every step). */
function readAfterRelease(program: readonly Instruction[]): { index: number; buf: string; releasedAt: number } | undefined {
  if (!program.some((i) => i.kind === "release")) return undefined;
  const released = new Map<string, number>();
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < program.length; i++) {
      const ins = program[i];
      if (ins.kind === "release") {
        released.set(ins.buf, i);
        continue;
      }
      for (const a of bufferAccesses(ins)) {
        const at = released.get(a.buf);
        if (at === undefined) continue;
        if (a.read) return { index: i, buf: a.buf, releasedAt: at };
        released.delete(a.buf);
      }
    }
  }
  return undefined;
}

/**
 * Validates a parsed plan document. `text` (the file's contents) lets diagnostics point
 * at lines; without it they carry only the JSON path.
 */
export function validatePlan(json: unknown, file: string, diagnostics: Diagnostics, text?: string): Plan | undefined {
  const loc = new Locator(file, text);
  const obj = json as Record<string, unknown> | null;
  if (typeof obj !== "object" || obj === null || Array.isArray(obj) || obj.format !== PLAN_FORMAT) {
    diagnostics.error("PAR5002", `${file} is not a par plan (\`format\` is ${obj && typeof obj === "object" && "format" in obj ? JSON.stringify(obj.format) : "missing"})`, {
      pos: loc.pos("/format"),
      expected: `"format": "${PLAN_FORMAT}"`,
    });
    return undefined;
  }
  if (!PLAN_VERSIONS.includes(obj.version as PlanVersion)) {
    const newer = typeof obj.version === "number" && obj.version > Math.max(...PLAN_VERSIONS);
    diagnostics.error("PAR5003", `${file} is plan format version ${JSON.stringify(obj.version)}; this par reads versions ${PLAN_VERSIONS.join(" and ")}`, {
      pos: loc.pos("/version"),
      ...(newer ? { hint: "the plan was written by a newer par: upgrade par" } : {}),
    });
    return undefined;
  }
  const validate = planValidator(obj.version as PlanVersion);
  if (!validate(json)) {
    for (const e of validate.errors ?? []) {
      // oneOf over instruction kinds reports every branch; the closest one is the branch
      // whose `kind` matched, so drop errors that only say "kind must be X".
      if (e.keyword === "const" && e.instancePath.endsWith("/kind")) continue;
      if (e.keyword === "oneOf") continue;
      const extra = e.keyword === "additionalProperties" ? ` (\`${String((e.params as { additionalProperty?: string }).additionalProperty)}\`)` : "";
      diagnostics.error("PAR5001", `${at(e.instancePath)} ${e.message ?? "is invalid"}${extra}`, { pos: loc.pos(e.instancePath) });
    }
    if (!diagnostics.hasErrors()) diagnostics.error("PAR5001", `${file} does not match the plan schema`, { pos: loc.pos("") });
    return undefined;
  }
  const plan = json as Plan;
  const before = diagnostics.errors.length;
  checkSemantics(plan, loc, diagnostics);
  if (diagnostics.errors.length > before) return undefined;
  const stuck = checkSchedule(plan);
  if (stuck) {
    diagnostics.error("PAR5010", `${file}: one step cannot run to completion: ${stuck}`, { pos: loc.pos("/programs") });
    return undefined;
  }
  return plan;
}

export function planText(plan: Plan): string {
  return JSON.stringify(plan) + "\n";
}

/** Writes a plan file atomically (compact JSON: plans are for machines). */
export function writePlan(path: string, plan: Plan): void {
  writeFileAtomic(path, planText(plan));
}

/**
 * Reads and validates the plan file at `path` (`shown` names it in diagnostics); undefined
 * after coded diagnostics (PAR4001/PAR4003/PAR4004 reading it, PAR50xx validating it).
 */
export function readPlan(path: string, diagnostics: Diagnostics, shown = path): Plan | undefined {
  let text: string;
  try {
    text = readTextFile(path, shown, INPUT_LIMITS.plan);
  } catch (e) {
    if (!(e instanceof ParError)) throw e;
    diagnostics.addAll(e.diagnostics);
    return undefined;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    diagnostics.error("PAR5011", `${shown} is not valid JSON: ${(e as Error).message}`, { pos: { file: shown, line: 1, column: 1 } });
    return undefined;
  }
  return validatePlan(json, shown, diagnostics, text);
}
