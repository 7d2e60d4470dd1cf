// `mesh NAME { ... }` → Mesh. Groups nest (`node x 4 { ... }`), devices come from the
// catalog (optionally overridden) or are custom, and each level has at most one link, the one
// joining that level's members. Problems become PAR30xx diagnostics; nothing throws.

import { GPU_LAUNCH_OVERHEAD, catalogKinds, lookupDevice, parKindName } from "../core/catalog.js";
import { didYouMean, type Diagnostics, type SourcePos } from "../core/diagnostics.js";
import type { DeviceSpec, LinkSpec, Mesh } from "../core/mesh.js";
import { assembleMesh, countDevices, type GroupItem, type GroupTemplate } from "../core/mesh-assemble.js";
import { parseQuantity, type Dimension } from "../core/units.js";
import type { DeviceDecl, Expr, GroupDecl, LinkDecl, MeshDecl, MeshItem, NamedArg, Span } from "./ast.js";

/** A guard against typos like `x 1000000`: the simulator and routes scale with devices. */
export const MAX_MESH_DEVICES = 100_000;

/** Device attributes and what they measure. `flops` is the f32 peak; f16/bf16 default to it. */
const DEVICE_ATTRS: Record<string, Dimension> = {
  flops: "flops",
  f16_flops: "flops",
  bf16_flops: "flops",
  memory: "bytes",
  bandwidth: "bandwidth",
  launch: "time",
};
const CUSTOM_REQUIRED = ["flops", "memory", "bandwidth"] as const;

const LINK_ATTRS: Record<string, Dimension> = { bandwidth: "bandwidth", latency: "time" };

const LINK_EXAMPLE = "link NAME(bandwidth = 20 GB/s, latency = 2 us)";

export function buildMesh(decl: MeshDecl, file: string, diagnostics: Diagnostics): Mesh | undefined {
  const b = new MeshBuilder(file, diagnostics);
  const before = diagnostics.errors.length;
  const root = b.level("mesh", decl.body, decl.nameSpan, `mesh ${decl.name}`);
  if (diagnostics.errors.length > before) return undefined;
  const total = countDevices(root.template);
  if (total === 0) {
    b.error("PAR3014", `mesh \`${decl.name}\` has no devices`, decl.nameSpan, {
      expected: "at least one `device KIND x N`",
      hint: "e.g. `device P100 x 4`, or a catalog kind: " + catalogKinds().join(", "),
    });
    return undefined;
  }
  if (total > MAX_MESH_DEVICES) {
    b.error("PAR3016", `mesh \`${decl.name}\` has ${total} devices, more than the ${MAX_MESH_DEVICES} par handles`, decl.nameSpan, {
      hint: "check the counts (`x N`) of its groups and devices",
    });
    return undefined;
  }
  return assembleMesh(decl.name, root.template);
}

interface Level {
  template: GroupTemplate;
  /** Sub-groups plus devices directly at this level, when every count was valid. */
  members: number | undefined;
}

interface Extras {
  expected?: string;
  hint?: string;
}

class MeshBuilder {
  constructor(
    readonly file: string,
    readonly diagnostics: Diagnostics,
  ) {}

  pos(span: Span): SourcePos {
    return { file: this.file, line: span.line, column: span.column, offset: span.offset, length: span.endOffset - span.offset };
  }

  error(code: string, message: string, span: Span, extras: Extras = {}): void {
    this.diagnostics.error(code, message, { pos: this.pos(span), expected: extras.expected, hint: extras.hint });
  }

  /** One level of the hierarchy: the mesh body or a group body. */
  level(label: string, body: MeshItem[], span: Span, what: string): Level {
    const template: GroupTemplate = { label, items: [] };
    let members: number | undefined = 0;
    let linkDecl: LinkDecl | undefined;
    for (const item of body) {
      if (item.kind === "link") {
        if (linkDecl) {
          this.error("PAR3010", `${what} already has link \`${linkDecl.name}\` (line ${linkDecl.span.line}); a level has one link`, item.span, {
            hint: "the link of a level joins its members; to join a subset, put it in a group: `node x N { device ... ; link ... }`",
          });
          continue;
        }
        linkDecl = item;
        const link = this.link(item);
        if (link) template.link = link;
        continue;
      }
      const count = this.count(item.count);
      let built: GroupItem | undefined;
      if (item.kind === "device") {
        const device = this.device(item);
        if (device && count !== undefined) built = { device, count };
      } else {
        built = this.group(item, count);
      }
      if (built) template.items.push(built);
      members = count === undefined || members === undefined ? undefined : members + count;
    }
    if (members !== undefined && members > 1 && !linkDecl) {
      this.error("PAR3011", `${what} has ${members} members but no link joining them`, span, {
        expected: `a \`${LINK_EXAMPLE}\` inside ${what}`,
        hint: `add \`${LINK_EXAMPLE}\` to say how its members are connected`,
      });
    }
    return { template, members };
  }

  group(decl: GroupDecl, count: number | undefined): GroupItem | undefined {
    const inner = this.level(decl.label, decl.body, decl.span, `group \`${decl.label}\``);
    if (count === undefined) return undefined;
    if (inner.members === 0) {
      this.error("PAR3015", `group \`${decl.label}\` has no devices`, decl.span, {
        expected: "a `device KIND x N` or a sub-group with devices inside the group",
      });
      return undefined;
    }
    return { group: inner.template, count };
  }

  /** A count: a positive integer literal, or integer arithmetic on literals. */
  count(e: Expr): number | undefined {
    const v = this.intExpr(e);
    if (v === undefined) return undefined;
    if (v > MAX_MESH_DEVICES) {
      this.error("PAR3016", `count ${v} is more than the ${MAX_MESH_DEVICES} devices par handles in a mesh`, e.span);
      return undefined;
    }
    if (v < 1) {
      this.error("PAR3012", `count must be a positive integer, got ${v}`, e.span, { expected: "an integer ≥ 1" });
      return undefined;
    }
    return v;
  }

  intExpr(e: Expr): number | undefined {
    switch (e.kind) {
      case "int":
        return e.value;
      case "float":
        this.error("PAR3012", `count must be a positive integer, got ${e.text}`, e.span, { expected: "an integer ≥ 1" });
        return undefined;
      case "unary": {
        const v = this.intExpr(e.operand);
        return v === undefined ? undefined : -v;
      }
      case "binary": {
        const l = this.intExpr(e.left);
        const r = this.intExpr(e.right);
        if (l === undefined || r === undefined) return undefined;
        if ((e.op === "/" || e.op === "//" || e.op === "%") && r === 0) {
          this.error("PAR3013", `division by zero in a count`, e.span);
          return undefined;
        }
        if (e.op === "/" && l % r !== 0) {
          this.error("PAR3013", `${l} / ${r} is not an integer`, e.span, { hint: "use `//` to round down" });
          return undefined;
        }
        const v = e.op === "+" ? l + r : e.op === "-" ? l - r : e.op === "*" ? l * r : e.op === "%" ? l % r : Math.floor(l / r);
        if (!Number.isSafeInteger(v)) {
          this.error("PAR3016", `count ${v} is more than the ${MAX_MESH_DEVICES} devices par handles in a mesh`, e.span);
          return undefined;
        }
        return v;
      }
      case "ident":
        this.error("PAR3013", `a mesh count cannot use \`${e.name}\``, e.span, {
          expected: "an integer literal or arithmetic on integer literals",
          hint: "meshes take no parameters; write the number",
        });
        return undefined;
      default:
        this.error("PAR3013", `a mesh count must be an integer, not a ${e.kind}`, e.span, { expected: "an integer literal or arithmetic on integer literals" });
        return undefined;
    }
  }

  /** Validated attributes by name, or undefined when any was bad (each reported). */
  attrs(args: NamedArg[], allowed: Record<string, Dimension>, what: string, unknownCode: string): Map<string, number> | undefined {
    const out = new Map<string, number>();
    const seen = new Set<string>();
    let ok = true;
    for (const a of args) {
      const dim = Object.hasOwn(allowed, a.name) ? allowed[a.name] : undefined;
      if (dim === undefined) {
        this.error(unknownCode, `unknown attribute \`${a.name}\` for ${what}`, a.span, {
          expected: `one of ${Object.keys(allowed).join(", ")}`,
          hint: didYouMean(a.name, Object.keys(allowed)),
        });
        ok = false;
        continue;
      }
      if (seen.has(a.name)) {
        this.error("PAR3007", `attribute \`${a.name}\` given twice for ${what}`, a.span);
        ok = false;
        continue;
      }
      seen.add(a.name);
      const v = this.quantity(a, dim);
      if (v === undefined) ok = false;
      else out.set(a.name, v);
    }
    return ok ? out : undefined;
  }

  quantity(arg: NamedArg, dim: Dimension): number | undefined {
    const e = arg.value;
    const zeroAllowed = dim === "time";
    if ((e.kind === "int" || e.kind === "float") && e.value === 0 && zeroAllowed) return 0;
    if (e.kind !== "quantity") {
      this.error("PAR3004", `\`${arg.name}\` needs a number with a unit`, e.span, { expected: EXAMPLES[dim], hint: `e.g. \`${arg.name} = ${EXAMPLES[dim]}\`` });
      return undefined;
    }
    const r = parseQuantity(e.value, e.unit, dim);
    if (!r.ok) {
      this.error(r.problem === "unknown-unit" ? "PAR3002" : "PAR3003", `${r.message} in \`${arg.name}\``, e.span, { expected: r.expected, hint: r.hint });
      return undefined;
    }
    if (!Number.isFinite(r.value) || r.value < 0 || (r.value === 0 && !zeroAllowed)) {
      this.error("PAR3017", `\`${arg.name} = ${e.text} ${e.unit}\` is out of range`, e.span, { expected: zeroAllowed ? "a time ≥ 0" : "a positive, finite quantity" });
      return undefined;
    }
    return r.value;
  }

  link(decl: LinkDecl): LinkSpec | undefined {
    const what = `link \`${decl.name}\``;
    const attrs = this.attrs(decl.attrs, LINK_ATTRS, what, "PAR3009");
    let ok = attrs !== undefined;
    for (const name of Object.keys(LINK_ATTRS)) {
      if (decl.attrs.some((a) => a.name === name)) continue;
      this.error("PAR3008", `${what} needs \`${name}\``, decl.span, { expected: LINK_EXAMPLE, hint: `add \`${name} = ${EXAMPLES[LINK_ATTRS[name]]}\`` });
      ok = false;
    }
    if (!ok || !attrs) return undefined;
    return { name: decl.name, bandwidth: attrs.get("bandwidth")!, latency: attrs.get("latency")! };
  }

  device(decl: DeviceDecl): DeviceSpec | undefined {
    const found = lookupDevice(decl.deviceKind);
    const what = `device \`${decl.deviceKind}\``;
    if (!found.ok && decl.attrs.length === 0) {
      this.error("PAR3001", `unknown device kind \`${decl.deviceKind}\``, decl.span, {
        expected: `a catalog kind (${catalogKinds().map(parKindName).join(", ")}) or a custom device with flops, memory and bandwidth`,
        hint: found.hint ?? `declare it: \`device ${decl.deviceKind}(flops = 10 TFLOP/s, memory = 16 GB, bandwidth = 900 GB/s) x N\``,
      });
      return undefined;
    }
    const attrs = this.attrs(decl.attrs, DEVICE_ATTRS, what, "PAR3006");
    let ok = attrs !== undefined;
    if (!found.ok) {
      for (const name of CUSTOM_REQUIRED) {
        if (decl.attrs.some((a) => a.name === name)) continue;
        this.error("PAR3005", `custom ${what} needs \`${name}\``, decl.span, {
          expected: "a custom device gives flops, memory and bandwidth (launch is optional)",
          hint: found.hint ? `${found.hint.replace(/\?$/, "")} (a catalog kind)?` : `add \`${name} = ${EXAMPLES[DEVICE_ATTRS[name]]}\``,
        });
        ok = false;
      }
    }
    if (!ok || !attrs) return undefined;
    const at = `${this.file}:${decl.span.line}`;
    if (found.ok) {
      const spec = found.spec;
      if (attrs.size === 0) return spec;
      applyOverrides(spec, attrs);
      spec.source += `; overridden at ${at}: ${[...attrs.keys()].join(", ")}`;
      return spec;
    }
    const flops = attrs.get("flops")!;
    const spec: DeviceSpec = {
      kind: decl.deviceKind,
      peakFlops: { f32: flops, f16: flops, bf16: flops },
      memoryBytes: attrs.get("memory")!,
      memoryBandwidth: attrs.get("bandwidth")!,
      launchOverhead: GPU_LAUNCH_OVERHEAD,
      source: `custom device declared at ${at}`,
    };
    applyOverrides(spec, attrs);
    return spec;
  }
}

function applyOverrides(spec: DeviceSpec, attrs: Map<string, number>): void {
  for (const [name, v] of attrs) {
    if (name === "flops") spec.peakFlops.f32 = v;
    else if (name === "f16_flops") spec.peakFlops.f16 = v;
    else if (name === "bf16_flops") spec.peakFlops.bf16 = v;
    else if (name === "memory") spec.memoryBytes = v;
    else if (name === "bandwidth") spec.memoryBandwidth = v;
    else if (name === "launch") spec.launchOverhead = v;
  }
}

const EXAMPLES: Record<Dimension, string> = {
  bandwidth: "20 GB/s",
  bytes: "16 GB",
  time: "2 us",
  flops: "10 TFLOP/s",
};
