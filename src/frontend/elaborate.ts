// Elaboration: one model declaration (with parameter values) → a Graph. Statements run in
// source order; loops unroll, block calls inline, and every op call goes through the
// registry (`getOp` → `resolveAttrs` → `infer`, or `expand` for composite ops). Names follow
// the rules in naming.ts: claimed outer-first (pre-order), so numbering is source order.
//
// Errors never throw: they are coded diagnostics, and the failed value becomes `poison` so
// that one mistake does not cascade into a screen of follow-on errors.

import { Diagnostics, didYouMean, type DiagnosticExtras, type SourcePos } from "../core/diagnostics.js";
import type { TensorType } from "../core/tensor.js";
import { resolveAttrs } from "../ops/attrs.js";
import { expandComposite } from "../ops/composite.js";
import type { AttrValue, Attrs, InferContext, OpEntry } from "../ops/contract.js";
import { getOp, opNames } from "../ops/registry.js";
import { Graph, type OpNode } from "../ir/graph.js";
import type { BlockDecl, Call, Expr, Ident, ModelDecl, Param, Span, Stmt } from "./ast.js";
import { evalInt, spanPos, type EvalContext, type IntBinding } from "./eval.js";
import { anonymousDimName, DEFAULT_REPEAT_LABEL, loopPrefix, NameTable } from "./naming.js";

/**
 * A value bound to a name: an integer, a tensor (by id, with its type, so that an op call
 * need not look its inputs up in the graph), or the remains of an error.
 */
export type Value = { kind: "int"; value: number } | TensorValue | { kind: "poison" };
type TensorValue = { kind: "tensor"; id: string; type: TensorType };

const POISON: Value = { kind: "poison" };
/** Block calls nested deeper than this are PAR2030: each level recurses (and a chain of thousands would overflow the stack). */
export const MAX_BLOCK_DEPTH = 100;

export interface ElaborationLimits {
  /** Ops in one model instance. */
  maxOps: number;
  /** Statements executed (unrolled), so that empty loops with huge counts also stop. */
  maxSteps: number;
}

export const DEFAULT_LIMITS: ElaborationLimits = { maxOps: 1_000_000, maxSteps: 5_000_000 };

export interface ElaborateInput {
  model: ModelDecl;
  file: string;
  /** Blocks of the program, by name (first declaration wins on duplicates). */
  blocks: ReadonlyMap<string, BlockDecl>;
  /** Model parameter values that replace defaults (already validated against the params). */
  params: Readonly<Record<string, number>>;
  diagnostics: Diagnostics;
  limits?: ElaborationLimits;
}

/** Elaborates a model; returns its graph, or undefined when the model has errors. */
export function elaborateModel(input: ElaborateInput): Graph | undefined {
  const sink = new DedupDiagnostics();
  const e = new Elaborator(input, sink);
  const graph = e.run();
  input.diagnostics.addAll(sink.items);
  return sink.hasErrors() ? undefined : graph;
}

/** Drops repeats of the same diagnostic (a block inlined 48 times reports its error once). */
class DedupDiagnostics extends Diagnostics {
  private readonly seen = new Set<string>();
  override error(code: string, message: string, extras: DiagnosticExtras = {}): void {
    if (this.fresh(code, message, extras)) super.error(code, message, extras);
  }
  override warning(code: string, message: string, extras: DiagnosticExtras = {}): void {
    if (this.fresh(code, message, extras)) super.warning(code, message, extras);
  }
  private fresh(code: string, message: string, extras: DiagnosticExtras): boolean {
    const key = `${code}|${extras.pos?.offset ?? ""}|${extras.pos?.line ?? ""}|${message}`;
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    return true;
  }
}

/** Where statements run: the names in scope and the prefix for op names made here. */
interface Frame {
  scope: Map<string, Value>;
  prefix: string;
  /** True at model level (not inside a block): assignments there define the model's outputs. */
  modelLevel: boolean;
}

/** Integer evaluation over a scope (a class rather than closures: one is made per evaluation). */
class ScopeEvalContext implements EvalContext {
  constructor(
    readonly file: string,
    readonly diagnostics: Diagnostics,
    private readonly scope: Map<string, Value>,
  ) {}

  lookup(name: string): IntBinding {
    const v = this.scope.get(name);
    return v === undefined ? undefined : v.kind === "int" ? v.value : v.kind === "tensor" ? "tensor" : "poison";
  }

  names(): Iterable<string> {
    return this.scope.keys();
  }
}

/** The attributes of a call without named arguments (only read, by `resolveAttrs`). */
const NO_ATTRS: Attrs = Object.freeze(Object.create(null) as Attrs);

/**
 * The attributes of an op called without named arguments: its defaults, the same for every
 * such call, so resolved once per op and shared (frozen; ops only read their attributes).
 */
const DEFAULT_ATTRS = new WeakMap<OpEntry, { specs: OpEntry["attrs"]; count: number; attrs: Attrs }>();

function defaultAttrs(entry: OpEntry, ctx: InferContext): Attrs | undefined {
  const known = DEFAULT_ATTRS.get(entry);
  if (known !== undefined && known.specs === entry.attrs && known.count === entry.attrs.length) return known.attrs;
  // A missing required attribute is reported on every call: a failure is not remembered.
  const attrs = resolveAttrs(entry, NO_ATTRS, ctx);
  if (attrs !== undefined) DEFAULT_ATTRS.set(entry, { specs: entry.attrs, count: entry.attrs.length, attrs: Object.freeze(attrs) });
  return attrs;
}

function poisoned(want: number): Value[] {
  return Array.from({ length: want }, () => POISON);
}

/**
 * A packed array of exactly `n` slots to fill by index: op inputs are kept in the graph, and
 * an array grown by `push` from empty reserves 16 slots.
 */
function exactArray<T>(n: number): T[] {
  return (n === 1 ? [undefined] : n === 2 ? [undefined, undefined] : n === 3 ? [undefined, undefined, undefined] : new Array<undefined>(n)) as T[];
}

/**
 * Attribute records have no prototype (an attribute may be named `__proto__`); instances of
 * this constructor also keep V8's fast properties, where `Object.create(null)` starts a
 * dictionary, which is several times slower to fill and to enumerate.
 */
const AttrRecord = function AttrRecord(this: Attrs) {} as unknown as new () => Attrs;
AttrRecord.prototype = Object.setPrototypeOf({}, null) as object;

/** Thrown internally to unwind when a limit is hit; caught in `run`. */
class LimitReached {}

class Elaborator {
  private readonly file: string;
  private readonly graph: Graph;
  private readonly names = new NameTable();
  private readonly declaredInputs = new Set<string>();
  private readonly limits: ElaborationLimits;
  private steps = 0;
  private readonly blockStack: string[] = [];
  /** Tensors that count as model outputs (never "unused"). */
  private readonly outputs = new Set<string>();
  private lastBound: string[] = [];

  constructor(
    private readonly input: ElaborateInput,
    private readonly diagnostics: Diagnostics,
  ) {
    this.file = input.file;
    this.limits = input.limits ?? DEFAULT_LIMITS;
    // Null-prototype records: a parameter may be named `__proto__` or `constructor`.
    this.graph = new Graph(input.model.name, Object.create(null) as Record<string, number>);
  }

  run(): Graph {
    const { model } = this.input;
    const frame: Frame = { scope: new Map(), prefix: "", modelLevel: true };
    if (!this.bindModelParams(model.params, frame.scope)) return this.graph;
    try {
      this.statements(model.body, frame, false);
    } catch (e) {
      if (!(e instanceof LimitReached)) throw e;
      return this.graph;
    }
    for (const id of this.lastBound) this.outputs.add(id);
    if (!this.diagnostics.hasErrors()) this.warnUnused();
    return this.graph;
  }

  // ------------------------------------------------------------------ parameters

  private bindModelParams(params: Param[], scope: Map<string, Value>): boolean {
    let ok = true;
    for (const p of params) {
      if (scope.has(p.name)) continue; // reported as a duplicate by check()
      const given = Object.hasOwn(this.input.params, p.name) ? this.input.params[p.name] : undefined;
      let v: number | undefined;
      if (given !== undefined) v = given;
      else if (p.default) v = evalInt(p.default, this.evalCtx(scope));
      else {
        this.diagnostics.error("PAR2022", `model parameter \`${p.name}\` has no default and no value was given`, {
          pos: this.pos(p.span),
          expected: `a default (\`${p.name} = 64\`) or an override (--set ${p.name}=N)`,
        });
      }
      if (v === undefined) {
        ok = false;
        scope.set(p.name, POISON);
      } else {
        scope.set(p.name, { kind: "int", value: v });
        this.graph.modelParams[p.name] = v;
      }
    }
    return ok;
  }

  // ------------------------------------------------------------------ statements

  /** Runs a statement list. `inBlock`: a `return` may end it (handled by the caller). */
  private statements(body: readonly Stmt[], frame: Frame, inBlock: boolean): void {
    for (let i = 0; i < body.length; i++) {
      const s = body[i];
      this.step();
      switch (s.kind) {
        case "input":
          this.inputStmt(s, frame, inBlock);
          break;
        case "assign":
          this.assign(s.targets, s.value, frame);
          break;
        case "repeat":
          this.repeat(s, frame, inBlock);
          break;
        case "for":
          this.forLoop(s, frame, inBlock);
          break;
        case "return":
          // A block's final return is consumed by `callBlock`; any other is misplaced.
          this.diagnostics.error("PAR2017", inBlock ? "`return` must be the last statement of a block" : "`return` outside a block", {
            pos: this.pos(s.span),
            expected: inBlock ? "`return` as the block's last statement" : "an input, an assignment, `repeat` or `for`",
          });
          break;
      }
    }
  }

  private inputStmt(s: Extract<Stmt, { kind: "input" }>, frame: Frame, inBlock: boolean): void {
    const pos = this.pos(s.span);
    if (inBlock || !frame.modelLevel) {
      this.diagnostics.error("PAR2027", `\`input ${s.name}\` inside a block`, { pos, expected: "inputs declared in the model body", hint: "pass the tensor to the block as an argument" });
      frame.scope.set(s.name, POISON);
      return;
    }
    if (this.declaredInputs.has(s.name)) {
      this.diagnostics.error("PAR2004", `input \`${s.name}\` is declared twice`, { pos, expected: "a fresh input name" });
      return;
    }
    this.declaredInputs.add(s.name);
    const ctx = this.evalCtx(frame.scope);
    const shape: number[] = [];
    const dims: string[] = [];
    let ok = true;
    s.type.dims.forEach((d, i) => {
      const v = evalInt(d.size, ctx);
      if (v === undefined) {
        ok = false;
        return;
      }
      if (v <= 0) {
        this.diagnostics.error("PAR2010", `dim ${i} of input \`${s.name}\` is ${v}; dims must be positive`, { pos: this.pos(d.span), expected: "a positive integer" });
        ok = false;
        return;
      }
      shape.push(v);
      dims.push(d.name ?? (d.size.kind === "ident" ? d.size.name : anonymousDimName(i)));
    });
    if (!ok) {
      frame.scope.set(s.name, POISON);
      return;
    }
    const id = this.names.claim(s.name);
    const type: TensorType = { dtype: s.type.dtype, shape, dims };
    this.graph.addInput(id, type, pos);
    frame.scope.set(s.name, { kind: "tensor", id, type });
    if (frame.modelLevel) this.lastBound = [id];
  }

  private assign(targets: readonly Ident[], value: Expr, frame: Frame): void {
    let values: Value[];
    if (value.kind === "call") {
      // Claim the outer names before anything nested, so numbering follows source order.
      const slots = this.callSlots(value, targets, frame);
      values = this.call(value, slots, frame, targets.length, slots[0]);
    } else if (targets.length > 1) {
      this.diagnostics.error("PAR2024", `${targets.length} targets need a call that yields ${targets.length} values`, {
        pos: this.pos(value.span),
        expected: `an op or block call with ${targets.length} outputs`,
      });
      values = targets.map(() => POISON);
    } else {
      values = [this.value(value, frame, "")];
    }
    for (let i = 0; i < targets.length; i++) {
      const t = targets[i].name;
      const v = values[i] ?? POISON;
      frame.scope.set(t, v);
      if (t === "loss" && v.kind === "tensor") this.outputs.add(v.id);
    }
    if (frame.modelLevel) {
      // The model's outputs so far (built without `push`, which reserves 16 slots: this runs per statement).
      const v = values[0];
      this.lastBound = values.length === 1 ? (v.kind === "tensor" ? [v.id] : []) : values.flatMap((x) => (x.kind === "tensor" ? [x.id] : []));
    }
  }

  /** The names the outer op(s) of `t1, t2 = call(...)` get: ops take the first target, blocks one per return. */
  private callSlots(call: Call, targets: readonly Ident[], frame: Frame): string[] {
    if (this.input.blocks.has(call.callee) && !getOp(call.callee)) return targets.map((t) => this.names.claim(frame.prefix + t.name));
    return [this.names.claim(frame.prefix + targets[0].name)];
  }

  private repeat(s: Extract<Stmt, { kind: "repeat" }>, frame: Frame, inBlock: boolean): void {
    const n = evalInt(s.count, this.evalCtx(frame.scope));
    if (n === undefined) return;
    if (n < 0) {
      this.diagnostics.error("PAR2020", `repeat count is ${n}`, { pos: this.pos(s.count.span), expected: "a non-negative integer" });
      return;
    }
    this.guardIterations(n, s.body.length, s.count.span);
    const label = s.label ?? DEFAULT_REPEAT_LABEL;
    for (let i = 0; i < n; i++, this.step()) this.statements(s.body, { ...frame, prefix: frame.prefix + loopPrefix(label, i) }, inBlock);
  }

  private forLoop(s: Extract<Stmt, { kind: "for" }>, frame: Frame, inBlock: boolean): void {
    const ctx = this.evalCtx(frame.scope);
    const a = evalInt(s.range.start, ctx);
    const b = evalInt(s.range.end, ctx);
    if (a === undefined || b === undefined) return;
    for (const [v, e] of [[a, s.range.start], [b, s.range.end]] as const) {
      if (v < 0) {
        this.diagnostics.error("PAR2020", `range bound is ${v}`, { pos: this.pos(e.span), expected: "a non-negative integer" });
        return;
      }
    }
    this.guardIterations(b - a + 1, s.body.length, s.range.span);
    const saved = frame.scope.get(s.variable);
    for (let i = a; i <= b; i++, this.step()) {
      frame.scope.set(s.variable, { kind: "int", value: i });
      this.statements(s.body, { ...frame, prefix: frame.prefix + loopPrefix(s.variable, i) }, inBlock);
    }
    if (saved === undefined) frame.scope.delete(s.variable);
    else frame.scope.set(s.variable, saved);
  }

  /** Refuses a loop that would blow the step budget before running any of it. */
  private guardIterations(count: number, bodyLength: number, span: Span): void {
    if (this.steps + count * Math.max(1, bodyLength) > this.limits.maxSteps) this.tooLarge(`a loop of ${count} iterations`, span);
  }

  private step(): void {
    if (++this.steps > this.limits.maxSteps) this.tooLarge(`more than ${this.limits.maxSteps} statements`, this.input.model.nameSpan);
  }

  private tooLarge(what: string, span: Span): never {
    this.diagnostics.error("PAR2021", `model \`${this.input.model.name}\` is too large to elaborate: ${what}`, {
      pos: this.pos(span),
      expected: `at most ${this.limits.maxOps} ops and ${this.limits.maxSteps} unrolled statements`,
      hint: "lower the repeat counts or model parameters",
    });
    throw new LimitReached();
  }

  // ------------------------------------------------------------------ expressions

  /** Evaluates an expression that may be a tensor or an integer. `root`: name prefix for nested calls. */
  private value(expr: Expr, frame: Frame, root: string): Value {
    switch (expr.kind) {
      case "ident": {
        const v = frame.scope.get(expr.name);
        if (v) return v;
        this.undefinedName(expr.name, expr.span, frame);
        return POISON;
      }
      case "call": {
        const slot = this.names.claim(root ? `${root}.${expr.callee}` : frame.prefix + expr.callee);
        return this.call(expr, [slot], frame, 1, root || slot)[0] ?? POISON;
      }
      default: {
        const v = evalInt(expr, this.evalCtx(frame.scope));
        return v === undefined ? POISON : { kind: "int", value: v };
      }
    }
  }

  /** A value that must be a tensor (an op input); undefined after a reported error. */
  private tensorArg(expr: Expr, frame: Frame, root: string): TensorValue | undefined {
    if (expr.kind !== "ident" && expr.kind !== "call") {
      this.diagnostics.error("PAR2009", `a ${expr.kind === "float" ? "float" : expr.kind === "int" || expr.kind === "binary" || expr.kind === "unary" ? "integer" : expr.kind} is used where a tensor is expected`, {
        pos: this.pos(expr.span),
        expected: "a tensor (an input, a named value or an op call)",
      });
      return undefined;
    }
    const v = expr.kind === "call" ? this.nestedCall(expr, frame, root) : this.value(expr, frame, root);
    if (v.kind === "tensor") return v;
    if (v.kind === "int") {
      this.diagnostics.error("PAR2009", `\`${expr.kind === "ident" ? expr.name : "..."}\` is an integer (${v.value}), but a tensor is expected here`, {
        pos: this.pos(expr.span),
        expected: "a tensor (an input, a named value or an op call)",
      });
    }
    return undefined;
  }

  /** A call inside another call: named `<root>.<callee>`, nested calls stay flat under root. */
  private nestedCall(call: Call, frame: Frame, root: string): Value {
    const slot = this.names.claim(`${root}.${call.callee}`);
    const values = this.call(call, [slot], frame, 1, root);
    return values[0] ?? POISON;
  }

  /**
   * An op or block call. `slots`: the names of its outer op(s); `want`: how many values the
   * context needs; `root`: the prefix for calls nested in its arguments.
   */
  private call(call: Call, slots: string[], frame: Frame, want: number, root: string): Value[] {
    const entry = getOp(call.callee);
    if (entry) return this.callOp(entry, call, slots[0], frame, want, root);
    const block = this.input.blocks.get(call.callee);
    if (block) return this.callBlock(block, call, slots, frame, want, root);
    this.diagnostics.error("PAR2005", `unknown op or block \`${call.callee}\``, {
      pos: this.pos(call.calleeSpan),
      expected: "an op from `par ops` or a block declared in this file",
      hint: didYouMean(call.callee, [...opNames(), ...this.input.blocks.keys()]),
    });
    // Still look at the arguments: their own errors are worth reporting.
    for (const a of call.args) if (a.kind === "call") this.nestedCall(a, frame, root);
    return Array.from({ length: want }, () => POISON);
  }

  private callOp(entry: OpEntry, call: Call, name: string, frame: Frame, want: number, root: string): Value[] {
    const pos = this.pos(call.span);
    const args = call.args;
    // Exact-size arrays filled by index: `inputs` stays in the graph.
    const inputs = exactArray<string>(args.length);
    const types = exactArray<TensorType>(args.length);
    let poison = false;
    for (let i = 0; i < args.length; i++) {
      const t = this.tensorArg(args[i], frame, root);
      if (t === undefined) {
        poison = true;
        inputs[i] = "poison";
      } else {
        inputs[i] = t.id;
        types[i] = t.type;
      }
    }
    const given = this.attrs(call, frame);
    if (given === undefined || poison) return poisoned(want);
    const ctx: InferContext = { opName: name, pos, diagnostics: this.diagnostics };
    const attrs = given === NO_ATTRS ? defaultAttrs(entry, ctx) : resolveAttrs(entry, given, ctx);
    if (!attrs) return poisoned(want);
    const node = entry.expansion ? this.addExpanded(entry, name, inputs, types, attrs, ctx) : this.addOp(entry, name, inputs, types, attrs, ctx);
    if (!node) return poisoned(want);
    const outputs = node.outputs;
    if (outputs.length !== want) {
      this.diagnostics.error("PAR2024", `\`${entry.name}\` yields ${outputs.length} output${outputs.length === 1 ? "" : "s"} (${entry.outputNames.join(", ")}), but ${want} ${want === 1 ? "is" : "are"} needed here`, {
        pos,
        expected: `${want} target${want === 1 ? "" : "s"}`,
        hint: outputs.length > 1 ? `write \`${entry.outputNames.join(", ")} = ${entry.name}(...)\`` : undefined,
      });
      return poisoned(want);
    }
    // The graph gave output i the type sig.outputs[i].
    const outTypes = node.sig.outputs;
    if (outputs.length === 1) return [{ kind: "tensor", id: outputs[0], type: outTypes[0] }];
    const values: Value[] = [];
    for (let i = 0; i < outputs.length; i++) values.push({ kind: "tensor", id: outputs[i], type: outTypes[i] });
    return values;
  }

  /** Infers and adds one op; `ctx` names it (and carries its position). */
  private addOp(entry: OpEntry, name: string, inputs: string[], types: TensorType[], attrs: Attrs, ctx: InferContext): OpNode | undefined {
    const sig = entry.infer(types, attrs, ctx);
    if (!sig) return undefined;
    if (this.graph.ops.size >= this.limits.maxOps) this.tooLarge(`more than ${this.limits.maxOps} ops`, this.input.model.nameSpan);
    return this.graph.addOp({ name, op: entry.name, attrs, inputs, sig, pos: ctx.pos });
  }

  /**
   * A composite op: its sub-ops are added instead (`<name>.<suffix>`, the last one named `name`).
   * Returns the last sub-op, whose outputs are the composite's.
   */
  private addExpanded(entry: OpEntry, name: string, inputs: string[], types: TensorType[], attrs: Attrs, ctx: InferContext): OpNode | undefined {
    // Validate the composite as a whole first, so shape errors speak of the op the user wrote.
    if (!entry.infer(types, attrs, ctx)) return undefined;
    const subs = expandComposite(entry, attrs);
    const produced: OpNode[] = [];
    for (const sub of subs) {
      const subEntry = getOp(sub.op);
      if (!subEntry) throw new Error(`op \`${entry.name}\` expands to unknown op \`${sub.op}\``);
      const subName = sub.suffix ? this.names.claim(`${name}.${sub.suffix}`) : name;
      const subInputs = sub.inputs.map((r) => (typeof r === "number" ? inputs[r] : produced[r.op].outputs[r.output]));
      const subTypes = sub.inputs.map((r) => (typeof r === "number" ? types[r] : produced[r.op].sig.outputs[r.output]));
      const subCtx: InferContext = { opName: subName, pos: ctx.pos, diagnostics: this.diagnostics };
      const subAttrs = resolveAttrs(subEntry, sub.attrs, subCtx);
      if (!subAttrs) return undefined;
      const out = this.addOp(subEntry, subName, subInputs, subTypes, subAttrs, subCtx);
      if (!out) return undefined;
      produced.push(out);
    }
    return produced[produced.length - 1];
  }

  /** Named arguments of an op call as attribute values. */
  private attrs(call: Call, frame: Frame): Attrs | undefined {
    if (call.named.length === 0) return NO_ATTRS;
    const out = new AttrRecord();
    let ok = true;
    for (const na of call.named) {
      if (Object.prototype.hasOwnProperty.call(out, na.name)) {
        this.diagnostics.error("PAR2026", `attribute \`${na.name}\` is given twice`, { pos: this.pos(na.span), expected: "each attribute once" });
        ok = false;
        continue;
      }
      const v = this.attrValue(na.value, frame);
      if (v === undefined) ok = false;
      else out[na.name] = v;
    }
    return ok ? out : undefined;
  }

  private attrValue(e: Expr, frame: Frame): AttrValue | undefined {
    switch (e.kind) {
      case "float": return e.value;
      case "string": return e.value;
      case "bool": return e.value;
      case "unary":
        if (e.operand.kind === "float") return -e.operand.value;
        return evalInt(e, this.evalCtx(frame.scope));
      case "list": {
        const out: number[] = [];
        for (const el of e.elements) {
          const v = evalInt(el, this.evalCtx(frame.scope));
          if (v === undefined) return undefined;
          out.push(v);
        }
        return out;
      }
      case "range": case "quantity": case "call":
        this.diagnostics.error("PAR2028", `a ${e.kind} is not an attribute value`, { pos: this.pos(e.span), expected: "an integer expression, a float, a string, true/false or a list of integers" });
        return undefined;
      default:
        return evalInt(e, this.evalCtx(frame.scope));
    }
  }

  // ------------------------------------------------------------------ blocks

  private callBlock(block: BlockDecl, call: Call, slots: string[], frame: Frame, want: number, root: string): Value[] {
    const pos = this.pos(call.span);
    const fail = (): Value[] => Array.from({ length: want }, () => POISON);
    if (this.blockStack.length >= MAX_BLOCK_DEPTH) {
      this.diagnostics.error("PAR2030", `block \`${block.name}\` is called ${MAX_BLOCK_DEPTH + 1} blocks deep (${this.blockStack[0]} → … → ${this.blockStack[this.blockStack.length - 1]} → ${block.name}), more than the ${MAX_BLOCK_DEPTH} par elaborates`, {
        pos,
        expected: `block calls nested at most ${MAX_BLOCK_DEPTH} deep`,
        hint: "stack repeated layers with `repeat` or `for` instead of a chain of blocks",
      });
      return fail();
    }
    if (this.blockStack.includes(block.name)) {
      this.diagnostics.error("PAR2019", `block \`${block.name}\` calls itself (${[...this.blockStack.slice(this.blockStack.indexOf(block.name)), block.name].join(" → ")})`, {
        pos,
        expected: "blocks that do not call themselves, directly or through others",
        hint: "use `repeat` or `for` to stack layers",
      });
      return fail();
    }
    const bound = this.bindBlockArgs(block, call, frame, root);
    const ret = block.body.length > 0 && block.body[block.body.length - 1].kind === "return" ? (block.body[block.body.length - 1] as Extract<Stmt, { kind: "return" }>) : undefined;
    if (!ret) {
      this.diagnostics.error("PAR2018", `block \`${block.name}\` returns nothing, but its call is used as a value`, {
        pos: this.pos(block.nameSpan),
        expected: "`return VALUE` as the block's last statement",
      });
      return fail();
    }
    if (ret.values.length !== want) {
      this.diagnostics.error("PAR2018", `block \`${block.name}\` returns ${ret.values.length} value${ret.values.length === 1 ? "" : "s"}, but ${want} ${want === 1 ? "is" : "are"} needed here`, {
        pos,
        expected: `${want} value${want === 1 ? "" : "s"}`,
      });
      return fail();
    }
    if (!bound) return fail();
    const inner: Frame = { scope: bound, prefix: `${slots[0]}.`, modelLevel: false };
    this.blockStack.push(block.name);
    try {
      this.statements(block.body.slice(0, -1), inner, true);
      return ret.values.map((e, i) => {
        if (e.kind !== "call") return this.value(e, inner, slots[i]);
        return this.call(e, [slots[i]], inner, 1, slots[i])[0] ?? POISON;
      });
    } finally {
      this.blockStack.pop();
    }
  }

  /** Binds a block's parameters from positional and named arguments and defaults. */
  private bindBlockArgs(block: BlockDecl, call: Call, frame: Frame, root: string): Map<string, Value> | undefined {
    const pos = this.pos(call.span);
    const byName = new Map<string, Expr>();
    let ok = true;
    if (call.args.length > block.params.length) {
      this.diagnostics.error("PAR2006", `block \`${block.name}\` takes ${block.params.length} argument${block.params.length === 1 ? "" : "s"}, got ${call.args.length}`, {
        pos,
        expected: `${block.name}(${block.params.map((p) => p.name).join(", ")})`,
      });
      ok = false;
    }
    call.args.slice(0, block.params.length).forEach((a, i) => byName.set(block.params[i].name, a));
    const paramNames = block.params.map((p) => p.name);
    for (const na of call.named) {
      if (!paramNames.includes(na.name)) {
        this.diagnostics.error("PAR2007", `block \`${block.name}\` has no parameter \`${na.name}\``, {
          pos: this.pos(na.span),
          expected: `one of ${paramNames.join(", ") || "(none)"}`,
          hint: didYouMean(na.name, paramNames),
        });
        ok = false;
      } else if (byName.has(na.name)) {
        this.diagnostics.error("PAR2026", `argument \`${na.name}\` of \`${block.name}\` is given twice`, { pos: this.pos(na.span), expected: "each argument once" });
        ok = false;
      } else byName.set(na.name, na.value);
    }
    // Arguments are evaluated in the caller's frame, in parameter order; defaults in the
    // block's own scope, so a default may refer to earlier parameters.
    const scope = new Map<string, Value>();
    for (const p of block.params) {
      if (scope.has(p.name)) continue; // duplicate parameter, reported by check()
      const arg = byName.get(p.name);
      if (arg) {
        scope.set(p.name, this.value(arg, frame, root));
      } else if (p.default) {
        scope.set(p.name, this.value(p.default, { scope, prefix: frame.prefix, modelLevel: false }, root));
      } else {
        this.diagnostics.error("PAR2006", `block \`${block.name}\` needs argument \`${p.name}\``, { pos, expected: `${block.name}(${paramNames.join(", ")})` });
        ok = false;
      }
    }
    if (!ok) return undefined;
    return scope;
  }

  // ------------------------------------------------------------------ helpers

  private warnUnused(): void {
    for (const t of this.graph.tensors.values()) {
      if (t.consumers.length > 0 || this.outputs.has(t.id)) continue;
      if (t.producer && getOp(this.graph.op(t.producer.op).op)?.isLoss) continue;
      const what = t.producer ? (t.id === t.producer.op ? `value \`${t.id}\`` : `output ${t.producer.output} of \`${t.producer.op}\``) : `input \`${t.id}\``;
      this.diagnostics.warning("PAR2016", `${what} is never used`, {
        pos: t.pos,
        hint: "remove it, or name it `loss` if it is a training loss",
      });
    }
  }

  private undefinedName(name: string, span: Span, frame: Frame): void {
    this.diagnostics.error("PAR2001", `undefined name \`${name}\``, {
      pos: this.pos(span),
      expected: "an input, a value assigned earlier, a parameter or a loop variable",
      hint: didYouMean(name, frame.scope.keys()),
    });
  }

  private evalCtx(scope: Map<string, Value>): EvalContext {
    return new ScopeEvalContext(this.file, this.diagnostics, scope);
  }

  private pos(span: Span): SourcePos {
    return spanPos(this.file, span);
  }
}
